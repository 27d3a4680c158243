/** Topics: broadcast channels of plain JSON, open to any Redis client. */
export { Topic } from './topic.js';
export type { InvalidPayloadHandler, TopicLimits, TopicOptions } from './topic.js';
