// A stand-in SQS endpoint that does no work: it answers SendMessageBatch, ReceiveMessage (10
// messages every time) and DeleteMessageBatch at once with canned JSON and correct MD5s, so
// the AWS SDK's checks pass. Run as a child process (`node sqs-stub.mjs`); it sends its port
// to the parent. The aws-sqs scenario drives the SDK against it to measure what the SDK
// client alone can do on this machine: the ceiling of any server's AWS path.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const md5 = (s) => createHash('md5').update(s, 'utf8').digest('hex');
const BODY = '0;' + 'x'.repeat(254);
const BODY_MD5 = md5(BODY);
let seq = 0;

const answers = {
  SendMessageBatch: (input) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${seq++}`, MD5OfMessageBody: md5(e.MessageBody) })),
  }),
  ReceiveMessage: () => ({
    Messages: Array.from({ length: 10 }, () => {
      const id = seq++;
      return { MessageId: `m-${id}`, ReceiptHandle: `r-${id}`, MD5OfBody: BODY_MD5, Body: BODY };
    }),
  }),
  DeleteMessageBatch: (input) => ({ Successful: input.Entries.map((e) => ({ Id: e.Id })) }),
};

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const action = String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
    const answer = answers[action];
    const text = answer ? JSON.stringify(answer(JSON.parse(Buffer.concat(chunks).toString()))) : '{}';
    res.writeHead(answer ? 200 : 400, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': 'stub',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => process.send?.(server.address().port));
process.on('disconnect', () => process.exit(0));
