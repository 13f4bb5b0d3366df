export * from './subscriber.js';
export * from './pipeline.js';
export * from './pipeline-observer.js';
export * from './wakeup.js';
export { subscriptionSql, checkpointOf, describeCheckpoint, type SubscriptionRow } from './subscription-store.js';
export { deadLetterSql, type DeadLetter, type DeadLetterFilter, type DeadLetterStatus } from './dead-letters.js';
export { replaySql, checkpointBefore, type ReplayJob, type ReplayRequest } from './replay-jobs.js';
export { NotReplayable, PipelineAdmin, UnknownSubscription } from './pipeline-admin.js';
