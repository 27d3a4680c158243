// The spawn baseline: a bare Node process that connects to Redis, answers one PING, and exits.
import { Redis } from 'ioredis';

const redis = new Redis({ path: process.argv[2] });
await redis.ping();
redis.disconnect();
