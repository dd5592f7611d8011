"""A custom scorer for the sentiment task: 1 when the answer is exactly the reference
(``Sentiment: positive`` / ``Sentiment: negative``), 0.5 when it names the right label in
another form, else 0. The real SDK's per-sample reward contract."""


def lambda_handler(event, context):
    answer = event["response"].strip()
    reference = event["reference_answer"]
    if answer == reference:
        return {"reward": 1.0}
    label = reference.split(":")[-1].strip()
    return {"reward": 0.5 if label in answer.lower() else 0.0}
