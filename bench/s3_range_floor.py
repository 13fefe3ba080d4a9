"""A diagnostic for evidence_download.py's S3 first byte: how long the S3 server itself takes to answer a HEAD and a
ranged GET of 1 MiB as the object grows, with boto3 alone (no connect, no database, no decryption).

    .venv/bin/python bench/s3_range_floor.py                 # moto's standalone server, started here
    .venv/bin/python bench/s3_range_floor.py --quick         # 16 and 128 MiB only
    .venv/bin/python bench/s3_range_floor.py --endpoint URL  # another S3-compatible server (MinIO, Ceph); its
                                                             # credentials from boto3's usual chain (AWS_* variables)

Objects of 16, 128 and 512 MiB (random bytes, uploaded in 16 MiB parts, deleted afterwards) in a bucket made for the
run; median of 5 of each request. A server that seeks to the range answers the GET in about a HEAD's time whatever
the object's size; moto builds every GET's answer from the whole object's value and slices the range from it, so its
ranged GET grows with the object. The last line of stdout is one JSON object.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
PART = 16 * 1024 * 1024
SIZES_MIB = (16, 128, 512)


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    moto = subprocess.Popen([str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return moto, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    moto.kill()
    raise RuntimeError("moto's server did not start")


def measure(client, bucket: str, size_mib: int) -> dict:
    key, piece = f"floor-{size_mib}", os.urandom(PART)
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [{"PartNumber": number, "ETag": client.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                                               PartNumber=number, Body=piece)["ETag"]}
             for number in range(1, size_mib * 1024 * 1024 // PART + 1)]
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    heads, gets = [], []
    try:
        for _ in range(5):
            began = time.perf_counter()
            client.head_object(Bucket=bucket, Key=key)
            heads.append(time.perf_counter() - began)
            began = time.perf_counter()
            client.get_object(Bucket=bucket, Key=key, Range="bytes=0-1048575")["Body"].read()
            gets.append(time.perf_counter() - began)
    finally:
        client.delete_object(Bucket=bucket, Key=key)
    return {"head_ms": round(statistics.median(heads) * 1000, 1),
            "ranged_1mib_get_ms": round(statistics.median(gets) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 and 128 MiB only")
    parser.add_argument("--endpoint", help="an S3-compatible server's URL (default: start moto's)")
    args = parser.parse_args()
    moto, endpoint = (None, args.endpoint) if args.endpoint else start_moto()
    result = {"benchmark": "s3_range_floor", "server": "other" if args.endpoint else "moto", "by_size_mib": {}}
    try:
        credentials = {} if args.endpoint else {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
        bucket = f"connect-floor-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        try:
            for size_mib in SIZES_MIB[:2] if args.quick else SIZES_MIB:
                result["by_size_mib"][size_mib] = figures = measure(client, bucket, size_mib)
                print(f"{size_mib} MiB: {figures}", file=sys.stderr, flush=True)
        finally:
            client.delete_bucket(Bucket=bucket)
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
