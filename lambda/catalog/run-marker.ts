import { runMarkerKey } from '../layout/key-layout.js';
import type { DatasetStorage } from '../storage/storage.js';
import { readJsonObject, writeJsonObject } from '../storage/json-object.js';

/**
 * `<prefix>/_run.json` (`runMarkerKey`): the record of a background job of this dataset. It answers "in progress"
 * until the run ends (`endedAt` is set: the manifest, if any, then speaks) or until it has not been
 * started or refreshed for longer than the function's timeout, after which the run must have died
 * and the marker means nothing. A run made of many invocations (the fan-out) refreshes it at each
 * step, so it stays fresh however long the whole run takes.
 */
export interface RunMarker {
  datasetId: string;
  startedAt: string;
  trigger: string;
  /** The last sign of life of a run longer than one invocation (a fan-out step starting). */
  refreshedAt?: string;
  /** Set when the run is over; `error` tells why it published nothing. */
  endedAt?: string;
  error?: string;
}

/** The marker when one exists, is not over, and was started or refreshed less than `staleSeconds` ago. */
export async function freshRunMarker(
  storage: DatasetStorage,
  prefix: string,
  now: Date,
  staleSeconds: number,
): Promise<RunMarker | undefined> {
  const marker = await openRunMarker(storage, prefix);
  if (!marker) return undefined;
  const lastSign = Math.max(Date.parse(marker.startedAt), Date.parse(marker.refreshedAt ?? '') || 0);
  return now.getTime() - lastSign < staleSeconds * 1000 ? marker : undefined;
}

/** The marker of a run that has not ended (fresh or not), or undefined. */
export async function openRunMarker(storage: DatasetStorage, prefix: string): Promise<RunMarker | undefined> {
  const marker = (await readJsonObject(storage, runMarkerKey(prefix))) as Partial<RunMarker> | undefined;
  if (!marker || marker.endedAt !== undefined || Number.isNaN(Date.parse(marker.startedAt ?? ''))) return undefined;
  return marker as RunMarker;
}

/**
 * Starts a run unless a fresh one is under way: true when the caller now owns the run. The
 * no-overwrite write keeps two simultaneous requests from both starting one.
 */
export async function claimRun(
  storage: DatasetStorage,
  prefix: string,
  marker: RunMarker,
  staleSeconds: number,
): Promise<boolean> {
  const key = runMarkerKey(prefix);
  if (await storage.putIfAbsent(key, JSON.stringify(marker))) return true;
  if (await freshRunMarker(storage, prefix, new Date(marker.startedAt), staleSeconds)) return false;
  await writeJsonObject(storage, key, marker); // a dead run's marker: take it over
  return true;
}

/** Marks a run as (re)started now, e.g. when a retried background invocation begins. */
export async function markRunStarted(storage: DatasetStorage, prefix: string, marker: RunMarker): Promise<void> {
  await writeJsonObject(storage, runMarkerKey(prefix), marker);
}

/**
 * A sign of life from a run that is still going (a fan-out step starting): sets `refreshedAt`.
 * An ended marker is left alone: a late step of a run already given up must not revive it.
 */
export async function refreshRun(storage: DatasetStorage, prefix: string, now: Date): Promise<void> {
  const marker = await openRunMarker(storage, prefix);
  if (marker) await writeJsonObject(storage, runMarkerKey(prefix), { ...marker, refreshedAt: now.toISOString() });
}

/** Supersedes the marker: the run is over (published, or given up with `error`). */
export async function endRun(
  storage: DatasetStorage,
  prefix: string,
  marker: RunMarker,
  endedAt: Date,
  error?: string,
): Promise<void> {
  await writeJsonObject(storage, runMarkerKey(prefix), {
    ...marker,
    endedAt: endedAt.toISOString(),
    ...(error && { error }),
  });
}
