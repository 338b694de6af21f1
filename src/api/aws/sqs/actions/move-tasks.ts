/** SQS message move tasks, on Herald's background redrive (src/queues/move-tasks.ts). */
import { HeraldError } from '../../../../errors.js';
import type { MoveTask } from '../../../../types.js';
import type { AwsCall, AwsContext } from '../../services.js';
import { AwsError } from '../../errors.js';
import { optionalInt, optionalString, requiredString } from '../input.js';
import { nameFromArn, queueArn } from '../names.js';

export async function startMessageMoveTask(ctx: AwsContext, call: AwsCall) {
  const source = nameFromArn(requiredString(call.input, 'SourceArn'), ctx.aws, 'SourceArn');
  const destinationArn = optionalString(call.input, 'DestinationArn');
  const destination = destinationArn ? nameFromArn(destinationArn, ctx.aws, 'DestinationArn') : null;
  const rate = optionalInt(call.input, 'MaxNumberOfMessagesPerSecond', 1, 500) ?? null;
  if (destination === null && (await ctx.queues.deadLetterSources(source)).length === 0) {
    throw new AwsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.');
  }
  const task = await ctx.moveTasks.start(source, destination, rate);
  return { TaskHandle: task.handle };
}

export async function listMessageMoveTasks(ctx: AwsContext, call: AwsCall) {
  const source = nameFromArn(requiredString(call.input, 'SourceArn'), ctx.aws, 'SourceArn');
  const max = optionalInt(call.input, 'MaxResults', 1, 10) ?? 1;
  const tasks = await ctx.moveTasks.list(source, max);
  return { Results: tasks.map((t) => result(ctx, t)) };
}

export async function cancelMessageMoveTask(ctx: AwsContext, call: AwsCall) {
  const handle = requiredString(call.input, 'TaskHandle');
  try {
    const task = await ctx.moveTasks.cancel(handle);
    return { ApproximateNumberOfMessagesMoved: task.moved };
  } catch (error) {
    if (error instanceof HeraldError && error.code === 'not_found') {
      throw new AwsError('ResourceNotFoundException', error.message, 404);
    }
    throw error;
  }
}

function result(ctx: AwsContext, t: MoveTask) {
  return {
    ...(t.status === 'RUNNING' ? { TaskHandle: t.handle } : {}),
    Status: t.status,
    SourceArn: queueArn(ctx.aws, t.sourceQueue),
    ...(t.destinationQueue ? { DestinationArn: queueArn(ctx.aws, t.destinationQueue) } : {}),
    ...(t.maxPerSecond ? { MaxNumberOfMessagesPerSecond: t.maxPerSecond } : {}),
    ApproximateNumberOfMessagesMoved: t.moved,
    ApproximateNumberOfMessagesToMove: t.toMove,
    ...(t.failureReason ? { FailureReason: t.failureReason } : {}),
    StartedTimestamp: Date.parse(t.startedAt),
  };
}
