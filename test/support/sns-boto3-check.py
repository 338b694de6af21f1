"""The main SNS actions through boto3, unchanged: only the endpoint and keys point at Herald.

Run with AWS_ENDPOINT_URL set (and no AWS config files); prints one JSON object of results
that test/integration/aws-sns-cli.test.ts checks.
"""
import json

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

queue_url = sqs.create_queue(QueueName="boto-big")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sub = sns.subscribe(
    TopicArn=topic,
    Protocol="sqs",
    Endpoint=queue_arn,
    Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"size": [{"numeric": [">", 10]}]})},
    ReturnSubscriptionArn=True,
)["SubscriptionArn"]
out["subscription"] = sub
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
print(json.dumps(out))
