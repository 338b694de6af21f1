"""Every SNS action through boto3, unchanged: only the endpoint and keys point at Herald.

Run with AWS_ENDPOINT_URL set (and no AWS config files); prints one JSON object of results
that test/integration/aws-sns-cli.test.ts checks. For the http subscription it listens on
127.0.0.1 itself and hands the documents it received to the test, which verifies their
signatures.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.exceptions import ClientError

sns = boto3.client("sns", region_name="us-east-1")
sqs = boto3.client("sqs", region_name="us-east-1")
out = {}

topic = sns.create_topic(Name="boto-orders", Attributes={"DisplayName": "Orders"}, Tags=[{"Key": "team", "Value": "core"}])["TopicArn"]
out["topic"] = topic
out["idempotent"] = sns.create_topic(Name="boto-orders", Attributes={"DisplayName": "Orders"})["TopicArn"] == topic
sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
out["attributes"] = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
out["topics"] = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
out["tags"] = sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "env", "Value": "test"}, {"Key": "tier", "Value": "1"}])
sns.untag_resource(ResourceArn=topic, TagKeys=["team", "tier"])
out["retagged"] = sns.list_tags_for_resource(ResourceArn=topic)["Tags"]

queue_url = sqs.create_queue(QueueName="boto-big")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sub = sns.subscribe(
    TopicArn=topic,
    Protocol="sqs",
    Endpoint=queue_arn,
    Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"size": [{"numeric": [">", 1000]}]})},
    ReturnSubscriptionArn=True,
)["SubscriptionArn"]
out["subscription"] = sub
# The policy set now replaces the one given on subscribe.
sns.set_subscription_attributes(
    SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=json.dumps({"size": [{"numeric": [">", 10]}]})
)
out["listed"] = [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
out["subscriptionAttributes"] = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
out["byTopic"] = [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]

num = lambda n: {"size": {"DataType": "Number", "StringValue": str(n)}}
sns.publish(TopicArn=topic, Message="small", MessageAttributes=num(3))
out["published"] = sns.publish(TopicArn=topic, Message="big", Subject="S", MessageAttributes=num(30))["MessageId"]
batch = sns.publish_batch(
    TopicArn=topic,
    PublishBatchRequestEntries=[
        {"Id": "a", "Message": "batch-big", "MessageAttributes": num(11)},
        {"Id": "b", "Message": "batch-small", "MessageAttributes": num(1)},
    ],
)
out["batch"] = sorted(s["Id"] for s in batch["Successful"])
bodies = []
for _ in range(5):
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    for m in got.get("Messages", []):
        bodies.append(m["Body"])
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    if len(bodies) >= 2:
        break
out["received"] = sorted(bodies)

sns.unsubscribe(SubscriptionArn=sub)
out["afterUnsubscribe"] = len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"])
try:
    sns.get_topic_attributes(TopicArn=topic + "-missing")
except ClientError as e:
    out["notFound"] = e.response["Error"]["Code"]
try:
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
except ClientError as e:
    out["sms"] = [e.response["Error"]["Code"], e.response["Error"]["Message"]]
sns.delete_topic(TopicArn=topic)
out["deleted"] = topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]

# FIFO topic into a FIFO queue: group order, deduplication by content.
fifo = sns.create_topic(Name="boto-jobs.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
fifo_queue = sqs.create_queue(QueueName="boto-jobs.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
sns.subscribe(
    TopicArn=fifo,
    Protocol="sqs",
    Endpoint=sqs.get_queue_attributes(QueueUrl=fifo_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
    Attributes={"RawMessageDelivery": "true"},
)
ids = [sns.publish(TopicArn=fifo, Message=f"job-{i}", MessageGroupId="g")["MessageId"] for i in range(4)]
out["fifoDuplicate"] = sns.publish(TopicArn=fifo, Message="job-0", MessageGroupId="g")["MessageId"] == ids[0]
bodies = []
for _ in range(10):
    for m in sqs.receive_message(QueueUrl=fifo_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        bodies.append(m["Body"])
        sqs.delete_message(QueueUrl=fifo_queue, ReceiptHandle=m["ReceiptHandle"])
    if len(bodies) >= 4:
        break
out["fifoOrder"] = bodies

# An http subscription: the confirmation arrives, ConfirmSubscription with its token, then a
# notification. The test verifies both documents' signatures.
received = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()


def document(kind):
    for _ in range(200):
        for body in received:
            if json.loads(body)["Type"] == kind:
                return body
        time.sleep(0.05)
    raise SystemExit(f"no {kind} arrived")


web = sns.create_topic(Name="boto-web")["TopicArn"]
pending = sns.subscribe(TopicArn=web, Protocol="http", Endpoint=f"http://127.0.0.1:{server.server_address[1]}/boto")
confirmation = document("SubscriptionConfirmation")
confirmed = sns.confirm_subscription(TopicArn=web, Token=json.loads(confirmation)["Token"])["SubscriptionArn"]
published = sns.publish(TopicArn=web, Message="to http", Subject="Hi")["MessageId"]
out["http"] = {
    "pending": pending["SubscriptionArn"],
    "confirmed": confirmed,
    "attributes": sns.get_subscription_attributes(SubscriptionArn=confirmed)["Attributes"],
    "published": published,
    "confirmation": confirmation,
    "notification": document("Notification"),
}
server.shutdown()
print(json.dumps(out))
