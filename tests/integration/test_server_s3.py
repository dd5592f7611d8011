"""The server's S3 for real: boto3's own S3 client and transfer manager, pointed at the
server by ``endpoint_url``, write objects that land in sageyard's object store, where jobs
read them; listings, ranges, multipart uploads and S3's errors are as boto3 expects."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sageyard.core.settings import Settings
from sageyard.server import RunningServer
from sageyard.storage import object_store_for
from tests.integration.test_server import KEY_ID, SECRET
from tests.integration.test_server import _client as wire_client

pytest.importorskip("uvicorn")


def _client(server: RunningServer, service: str = "s3", **keys: str) -> Any:
    """boto3's client of ``service`` (S3 unless said) for ``server``."""
    return wire_client(server, service, **keys)


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_buckets_are_created_found_and_listed(server: RunningServer) -> None:
    s3 = _client(server)
    s3.create_bucket(Bucket="alpha", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.create_bucket(Bucket="beta")
    s3.head_bucket(Bucket="alpha")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["alpha", "beta"]
    assert s3.get_bucket_location(Bucket="alpha")["LocationConstraint"] == "us-west-2"
    with pytest.raises(ClientError) as missing:
        s3.head_bucket(Bucket="gamma")
    assert _code(missing) == ("404", 404)
    with pytest.raises(ClientError) as listing:
        s3.list_objects_v2(Bucket="gamma")
    assert _code(listing) == ("NoSuchBucket", 404)


def test_objects_round_trip_into_sageyards_object_store(server: RunningServer) -> None:
    s3 = _client(server)
    s3.create_bucket(Bucket="data")
    body = b"a,b\n1,2\n"
    put = s3.put_object(Bucket="data", Key="train/part 1.csv", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket="data", Key="train/part 1.csv")
    assert got["Body"].read() == body and got["ContentLength"] == len(body)
    head = s3.head_object(Bucket="data", Key="train/part 1.csv")
    assert head["ContentLength"] == len(body) and head["ETag"] == got["ETag"]
    assert abs(head["LastModified"].timestamp() - time.time()) < 60
    ranged = s3.get_object(Bucket="data", Key="train/part 1.csv", Range="bytes=4-6")
    assert ranged["Body"].read() == b"1,2" and ranged["ContentRange"] == "bytes 4-6/8"
    # the same object for sageyard's own store, so for jobs
    objects = object_store_for(Settings.from_env())
    assert objects.list("s3://data/train/") == ["s3://data/train/part 1.csv"]
    s3.delete_object(Bucket="data", Key="train/part 1.csv")
    with pytest.raises(ClientError) as gone:
        s3.get_object(Bucket="data", Key="train/part 1.csv")
    assert _code(gone) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as head_gone:
        s3.head_object(Bucket="data", Key="train/part 1.csv")
    assert _code(head_gone) == ("404", 404)


def test_listings_group_page_and_encode_as_s3_does(server: RunningServer) -> None:
    s3 = _client(server)
    s3.create_bucket(Bucket="tree")
    keys = ["a/1.txt", "a/2.txt", "a/deep/3.txt", "b/4.txt", "top.txt", "with space/5.txt"]
    for key in keys:
        s3.put_object(Bucket="tree", Key=key, Body=key.encode())
    flat = s3.list_objects_v2(Bucket="tree")
    assert [o["Key"] for o in flat["Contents"]] == keys and flat["KeyCount"] == 6
    assert flat["Contents"][0]["Size"] == len("a/1.txt")
    grouped = s3.list_objects_v2(Bucket="tree", Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["a/", "b/", "with space/"]
    assert [o["Key"] for o in grouped["Contents"]] == ["top.txt"]
    inside = s3.list_objects_v2(Bucket="tree", Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == ["a/1.txt", "a/2.txt"]
    assert [p["Prefix"] for p in inside["CommonPrefixes"]] == ["a/deep/"]
    paged = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket="tree", PaginationConfig={"PageSize": 4}
        )
        for o in page.get("Contents", [])
    ]
    assert paged == keys
    first = s3.list_objects_v2(Bucket="tree", MaxKeys=2)
    assert first["IsTruncated"] and first["NextContinuationToken"]
    older = [o["Key"] for o in s3.list_objects(Bucket="tree", Marker="b/4.txt")["Contents"]]
    assert older == ["top.txt", "with space/5.txt"]
    deleted = s3.delete_objects(
        Bucket="tree", Delete={"Objects": [{"Key": "a/1.txt"}, {"Key": "b/4.txt"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["a/1.txt", "b/4.txt"]
    assert s3.list_objects_v2(Bucket="tree", Prefix="b/")["KeyCount"] == 0


def test_large_files_go_up_in_parts_and_come_back_whole(
    server: RunningServer, tmp_path: Path
) -> None:
    from boto3.s3.transfer import TransferConfig

    s3 = _client(server)
    s3.create_bucket(Bucket="big")
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * (12 * 4096 + 7))  # ~12.6 MiB: three parts
    config = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_file(str(source), "big", "model/big.bin", Config=config)
    head = s3.head_object(Bucket="big", Key="model/big.bin")
    assert head["ContentLength"] == source.stat().st_size
    back = tmp_path / "back.bin"
    s3.download_file("big", "model/big.bin", str(back), Config=config)
    assert back.read_bytes() == source.read_bytes()
    upload = s3.create_multipart_upload(Bucket="big", Key="aborted.bin")["UploadId"]
    s3.upload_part(Bucket="big", Key="aborted.bin", UploadId=upload, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket="big", Key="aborted.bin", UploadId=upload)
    with pytest.raises(ClientError) as aborted:
        s3.upload_part(Bucket="big", Key="aborted.bin", UploadId=upload, PartNumber=2, Body=b"y")
    assert _code(aborted) == ("NoSuchUpload", 404)
    assert s3.list_objects_v2(Bucket="big")["KeyCount"] == 1


def test_a_job_created_over_the_wire_reads_data_put_over_the_wire(server: RunningServer) -> None:
    from tests.integration.test_server import _request, _wait

    s3, sagemaker = _client(server), _client(server, "sagemaker")
    s3.create_bucket(Bucket="inputs")
    s3.put_object(Bucket="inputs", Key="train/numbers.csv", Body=b"1\n2\n3\n")
    code = (
        "import os; p = os.environ['SM_CHANNEL_TRAIN']; "
        "print('SUM', sum(int(x) for x in open(os.path.join(p, 'numbers.csv'))))"
    )
    request = _request("reads-s3", code)
    request["InputDataConfig"] = [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://inputs/train/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
    ]
    sagemaker.create_training_job(**request)
    described = _wait(sagemaker, "reads-s3")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = artifacts[len("s3://") :].split("/", 1)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0  # model.tar.gz


def test_with_credentials_s3_refuses_who_cannot_sign(tmp_path: Path) -> None:
    from botocore import UNSIGNED
    from botocore.config import Config

    with RunningServer(Settings.from_env(), credentials={KEY_ID: SECRET}) as signed:
        owner = _client(signed)
        owner.create_bucket(Bucket="private")
        owner.put_object(Bucket="private", Key="secret.txt", Body=b"mine")
        attacker = _client(signed, secret="a-guess")
        with pytest.raises(ClientError) as read:
            attacker.get_object(Bucket="private", Key="secret.txt")
        assert _code(read) == ("SignatureDoesNotMatch", 403)
        with pytest.raises(ClientError) as write:
            attacker.put_object(Bucket="private", Key="secret.txt", Body=b"theirs")
        assert _code(write) == ("SignatureDoesNotMatch", 403)
        import boto3

        anonymous = boto3.session.Session().client(
            "s3",
            endpoint_url=signed.url,
            region_name="us-west-2",
            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
        )
        with pytest.raises(ClientError) as unsigned:
            anonymous.list_objects_v2(Bucket="private")
        assert _code(unsigned) == ("AccessDenied", 403)
        assert owner.get_object(Bucket="private", Key="secret.txt")["Body"].read() == b"mine"


def test_with_a_certificate_the_server_speaks_https(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    make = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    name = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [*make, *name, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    import boto3

    with RunningServer(Settings.from_env(), certfile=str(cert), keyfile=str(key)) as tls:
        assert tls.url.startswith("https://")
        kwargs = {"endpoint_url": tls.url, "region_name": "us-west-2", "verify": str(cert)}
        kwargs |= {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET}
        s3 = boto3.session.Session().client("s3", **kwargs)
        s3.create_bucket(Bucket="secure")
        # over HTTPS botocore sends its checksummed, aws-chunked bodies
        s3.put_object(Bucket="secure", Key="k.txt", Body=b"over tls")
        assert s3.get_object(Bucket="secure", Key="k.txt")["Body"].read() == b"over tls"
        sagemaker = boto3.session.Session().client("sagemaker", **kwargs)
        assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
