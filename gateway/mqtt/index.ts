/** Local MQTT: the embedded broker and the two event publishers. */
export * from './acl.js';
export * from './broker.js';
export * from './embedded-publisher.js';
export * from './external-publisher.js';
export * from './publisher.js';
