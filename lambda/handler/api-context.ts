import type { DatasetStore } from '../catalog/dataset-store.js';
import type { UrlSigner } from '../catalog/url-signer.js';
import type { BackgroundJobInvoker } from './background-job.js';
import type { Environment } from './environment.js';
import type { FanoutStarter } from '../fanout/fanout-payloads.js';
import type { Publisher } from './publisher.js';

/** What the API routes work with, for one request. */
export interface ApiContext {
  env: Environment;
  store: DatasetStore;
  signer: UrlSigner;
  publish: Publisher;
  invokeAsync: BackgroundJobInvoker;
  startFanout: FanoutStarter;
  now: Date;
}
