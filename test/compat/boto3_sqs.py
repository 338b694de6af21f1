"""Drives Herald's SQS endpoint with boto3, unchanged but for the environment.

Reads AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION like
any boto3 program; calls every SQS action Herald serves; prints one JSON line per check and
exits non-zero on the first failure. Run by test/integration/aws-compat.test.ts.
"""
import json
import os
import sys
import threading
import time

import boto3
from botocore.exceptions import ClientError

sqs = boto3.client("sqs")
checks = []


def check(name, ok, detail=None):
    checks.append(name)
    print(json.dumps({"check": name, "ok": bool(ok), "detail": detail}), flush=True)
    if not ok:
        sys.exit(1)


def code_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


prefix = sys.argv[1] if len(sys.argv) > 1 else "boto"
dlq = sqs.create_queue(QueueName=f"{prefix}-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
url = sqs.create_queue(
    QueueName=f"{prefix}-work",
    Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}),
    },
    tags={"team": "compat"},
)["QueueUrl"]
check("CreateQueue", url.endswith(f"/{prefix}-work"), url)
check("GetQueueUrl", sqs.get_queue_url(QueueName=f"{prefix}-work")["QueueUrl"] == url)
listed = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=1)
check("ListQueues", len(listed["QueueUrls"]) == 1 and "NextToken" in listed, listed.get("QueueUrls"))
pages = sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 1})
paged = [u for page in pages for u in page["QueueUrls"]]
check("ListQueues pages (NextToken)", paged == [dlq, url], paged)
sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "0", "MaximumMessageSize": "4096"})
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
check("Get/SetQueueAttributes", attrs["MaximumMessageSize"] == "4096" and "RedrivePolicy" in attrs, attrs)
sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
check("Tag/Untag/ListQueueTags", sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"})
check("ListDeadLetterSourceQueues", sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url])

# boto3 checks the MD5 digests of body and attributes itself and raises on a mismatch.
sent = sqs.send_message(
    QueueUrl=url,
    MessageBody="hello from boto3",
    MessageAttributes={
        "n": {"DataType": "Number", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
    },
    MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-x"}},
)
check("SendMessage", "MD5OfMessageAttributes" in sent, sent["MessageId"])
batch = sqs.send_message_batch(
    QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": f"batch {i}"} for i in range(9)] + [{"Id": "bad", "MessageBody": ""}]
)
check("SendMessageBatch", len(batch["Successful"]) == 9 and batch["Failed"][0]["Id"] == "bad", batch.get("Failed"))
got = sqs.receive_message(
    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
)["Messages"]
first = next(m for m in got if m["Body"] == "hello from boto3")
check(
    "ReceiveMessage",
    len(got) == 10 and first["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\xff" and first["Attributes"]["AWSTraceHeader"] == "Root=1-x",
    len(got),
)
sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=60)
changed = sqs.change_message_visibility_batch(
    QueueUrl=url, Entries=[{"Id": "c1", "ReceiptHandle": got[1]["ReceiptHandle"], "VisibilityTimeout": 60}]
)
check("ChangeMessageVisibility(Batch)", len(changed["Successful"]) == 1)
sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
deleted = sqs.delete_message_batch(
    QueueUrl=url, Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got[1:3])]
)
check("DeleteMessage(Batch)", len(deleted["Successful"]) == 2)

# The other seven had visibility 0 and maxReceiveCount 1: the next receive dead-letters them.
sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
dead = int(sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
check("RedrivePolicy", dead == 7, dead)


def task_when(status):
    for _ in range(200):
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if task["Status"] == status:
            return task
        time.sleep(0.05)
    return task


# A slow task (1 message a second), cancelled while it runs; then the rest at full speed.
slow = sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
cancelled = sqs.cancel_message_move_task(TaskHandle=slow)
stopped = task_when("CANCELLED")
check(
    "CancelMessageMoveTask",
    running["Status"] == "RUNNING" and cancelled["ApproximateNumberOfMessagesMoved"] < 7 and stopped["Status"] == "CANCELLED",
    [running, stopped],
)
handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
task = task_when("COMPLETED")
check("Start/ListMessageMoveTasks", task["ApproximateNumberOfMessagesMoved"] == 7 - stopped["ApproximateNumberOfMessagesMoved"], task)
check("CancelMessageMoveTask when done", code_of(lambda: sqs.cancel_message_move_task(TaskHandle=handle)) == "ResourceNotFoundException")
sqs.purge_queue(QueueUrl=url)
check("PurgeQueue", "Messages" not in sqs.receive_message(QueueUrl=url))
sqs.delete_queue(QueueUrl=url)
check("DeleteQueue", code_of(lambda: sqs.get_queue_url(QueueName=f"{prefix}-work")) == "AWS.SimpleQueueService.NonExistentQueue")
try:
    sqs.get_queue_url(QueueName=f"{prefix}-work")
except sqs.exceptions.QueueDoesNotExist:
    check("typed QueueDoesNotExist", True)

# Only the attributes asked for: one message attribute, two system attributes.
plain = sqs.create_queue(QueueName=f"{prefix}-plain")["QueueUrl"]
sqs.send_message(
    QueueUrl=plain,
    MessageBody="pick",
    MessageAttributes={"n": {"DataType": "Number", "StringValue": "1"}, "s": {"DataType": "String", "StringValue": "x"}},
)
picked = sqs.receive_message(
    QueueUrl=plain, MessageAttributeNames=["n"], MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"]
)["Messages"][0]
check(
    "ReceiveMessage attribute selection",
    list(picked["MessageAttributes"]) == ["n"] and sorted(picked["Attributes"]) == ["ApproximateReceiveCount", "SentTimestamp"],
    picked,
)
sqs.delete_message(QueueUrl=plain, ReceiptHandle=picked["ReceiptHandle"])

# Long polling: a receive waiting on an empty queue returns once a message is sent.
threading.Timer(1.0, lambda: sqs.send_message(QueueUrl=plain, MessageBody="wake up")).start()
started = time.monotonic()
woken = sqs.receive_message(QueueUrl=plain, WaitTimeSeconds=20).get("Messages", [])
waited = time.monotonic() - started
check("ReceiveMessage long polling", [m["Body"] for m in woken] == ["wake up"] and 0.8 < waited < 10, waited)

# FIFO: order within each group; duplicates (by id, by content) answer the first message id and number.
fifo = sqs.create_queue(
    QueueName=f"{prefix}-jobs.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
)["QueueUrl"]
ids = sqs.send_message_batch(
    QueueUrl=fifo, Entries=[{"Id": f"j{i}", "MessageBody": f"job-{i}", "MessageGroupId": f"g{i % 2}"} for i in range(6)]
)["Successful"]
j0 = next(e for e in ids if e["Id"] == "j0")
again = sqs.send_message(QueueUrl=fifo, MessageBody="job-0", MessageGroupId="g0")
by_id = [
    sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g1", MessageDeduplicationId="d-1")["MessageId"]
    for body in ("once", "another body")
]
check(
    "FIFO deduplication (the first message's id and SequenceNumber)",
    again["MessageId"] == j0["MessageId"] and again.get("SequenceNumber") == j0["SequenceNumber"] and by_id[0] == by_id[1],
    [again, j0, by_id],
)
order = {}
for _ in range(20):
    batch = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]).get("Messages", [])
    for m in batch:
        order.setdefault(m["Attributes"]["MessageGroupId"], []).append(m["Body"])
        sqs.delete_message(QueueUrl=fifo, ReceiptHandle=m["ReceiptHandle"])
    if sum(map(len, order.values())) >= 7:
        break
check("FIFO order", order == {"g0": ["job-0", "job-2", "job-4"], "g1": ["job-1", "job-3", "job-5", "once"]}, order)

wrong = boto3.client(
    "sqs", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong-secret"
)
check("SignatureDoesNotMatch", code_of(lambda: wrong.list_queues()) == "SignatureDoesNotMatch")
print(json.dumps({"done": len(checks)}))
