# SNS delivers to SQS queues through SQS's public MessageSink.
target_link_libraries(fogbank_svc_sns PUBLIC fogbank_svc_sqs)
