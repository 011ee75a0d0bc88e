import type { DatasetStorage } from '../storage/storage.js';
import { DatasetFileError } from '../dataset/dataset-csv.js';
import { PREDICTORS, type BaselineKind } from '../tasks/baselines.js';
import { PopulationHistory } from '../tasks/population-history.js';
import type { UserHistory, Window } from '../tasks/user-history.js';
import { readAnchors } from './task-rows.js';
import { readUserHistories } from './user-history.js';

/**
 * A baseline's predictions for every task row, as CSV text in chunks (header first, CRLF): one pass over
 * tiers and uploads for the population's hourly counts, then a merge-join of the task anchors
 * with each user's history. Reads neither labels nor oracle probabilities nor the truth file.
 */
export async function* baselinePredictions(
  storage: DatasetStorage,
  prefix: string,
  window: Window,
  kind: BaselineKind,
): AsyncGenerator<string> {
  const population = new PopulationHistory(window);
  for await (const user of readUserHistories(storage, prefix, window)) population.add(user);
  population.finish();

  const predict = PREDICTORS[kind];
  const histories = readUserHistories(storage, prefix, window);
  let user: UserHistory | undefined;
  // Lines are handed on in chunks of about CHUNK_CHARS: one write per line would dominate the run.
  let chunk = 'user_id,anchor_time,probability\r\n';
  for await (const anchor of readAnchors(storage, prefix)) {
    while (!user || user.userId < anchor.userId) {
      const next = await histories.next();
      if (next.done) break;
      user = next.value;
    }
    if (user?.userId !== anchor.userId)
      throw new DatasetFileError(`tiers.csv has no user ${anchor.userId}, who has task rows`);
    chunk += `${anchor.userId},${anchor.anchorTime},${String(predict(user, anchor.at, population.past(anchor.at), window))}\r\n`;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}

const CHUNK_CHARS = 64 * 1024;
