/**
 * The SQS service of the AWS front door: the action table, the Query form-field table, and
 * the mapping of Herald's domain errors to SQS's error codes. Actions take the JSON
 * protocol's input shape and return its output shape whichever protocol carried them.
 */
import { HeraldError } from '../../../errors.js';
import { AwsError } from '../errors.js';
import type { QueryFieldMap } from '../query-protocol.js';
import type { AwsCall, AwsContext, AwsService } from '../services.js';
import * as messages from './actions/messages.js';
import * as moveTasks from './actions/move-tasks.js';
import * as queues from './actions/queues.js';
import { queueDoesNotExist } from './names.js';
import { renderQueryResult } from './query-output.js';

type Action = (ctx: AwsContext, call: AwsCall) => Promise<Record<string, unknown>>;

const ACTIONS: Record<string, Action> = {
  CreateQueue: queues.createQueue,
  DeleteQueue: queues.deleteQueue,
  GetQueueUrl: queues.getQueueUrl,
  ListQueues: queues.listQueues,
  GetQueueAttributes: queues.getQueueAttributes,
  SetQueueAttributes: queues.setQueueAttributes,
  PurgeQueue: queues.purgeQueue,
  ListDeadLetterSourceQueues: queues.listDeadLetterSourceQueues,
  TagQueue: queues.tagQueue,
  UntagQueue: queues.untagQueue,
  ListQueueTags: queues.listQueueTags,
  SendMessage: messages.sendMessage,
  SendMessageBatch: messages.sendMessageBatch,
  ReceiveMessage: messages.receiveMessage,
  DeleteMessage: messages.deleteMessage,
  DeleteMessageBatch: messages.deleteMessageBatch,
  ChangeMessageVisibility: messages.changeMessageVisibility,
  ChangeMessageVisibilityBatch: messages.changeMessageVisibilityBatch,
  StartMessageMoveTask: moveTasks.startMessageMoveTask,
  ListMessageMoveTasks: moveTasks.listMessageMoveTasks,
  CancelMessageMoveTask: moveTasks.cancelMessageMoveTask,
};

/** Query form fields (flattened lists and maps) -> JSON input members. */
const QUERY_FIELDS: QueryFieldMap = {
  Attribute: { member: 'Attributes', kind: 'map' },
  AttributeName: { member: 'AttributeNames', kind: 'list' },
  MessageAttributeName: { member: 'MessageAttributeNames', kind: 'list' },
  MessageSystemAttributeName: { member: 'MessageSystemAttributeNames', kind: 'list' },
  MessageAttribute: { member: 'MessageAttributes', kind: 'map' },
  MessageSystemAttribute: { member: 'MessageSystemAttributes', kind: 'map' },
  Tag: { member: 'Tags', kind: 'map', key: 'Key', value: 'Value' },
  TagKey: { member: 'TagKeys', kind: 'list' },
};
const ENTRY: QueryFieldMap[string] = { member: 'Entries', kind: 'struct-list', fields: QUERY_FIELDS };
Object.assign(QUERY_FIELDS, {
  Entries: ENTRY,
  SendMessageBatchRequestEntry: ENTRY,
  DeleteMessageBatchRequestEntry: ENTRY,
  ChangeMessageVisibilityBatchRequestEntry: ENTRY,
});

export function sqsService(ctx: AwsContext): AwsService {
  return {
    jsonTarget: 'AmazonSQS',
    jsonErrorNamespace: 'com.amazonaws.sqs',
    xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
    queryFields: QUERY_FIELDS,
    async handle(call) {
      const action = Object.hasOwn(ACTIONS, call.action) ? ACTIONS[call.action] : undefined;
      if (!action) throw new AwsError('InvalidAction', `The action ${call.action} is not valid for this endpoint.`);
      // Query clients may address the queue by the request path instead of QueueUrl.
      if (call.protocol === 'query' && call.input.QueueUrl === undefined && /^\/[^/]+\/[^/]+$/.test(call.path)) {
        call.input.QueueUrl = call.origin + call.path;
      }
      try {
        return await action(ctx, call);
      } catch (error) {
        if (error instanceof HeraldError && error.code === 'queue_not_found') throw queueDoesNotExist();
        throw error;
      }
    },
    renderQuery: renderQueryResult,
  };
}
