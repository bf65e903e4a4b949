#!/usr/bin/env python3
"""Write a small OCI image layout for the demo: one image per NAME, each with
one gzip layer holding /NAME.txt, tagged with the ref name NAME. A NAME may
carry its image's creation time as NAME@RFC3339 (default 2026-01-01); on a
registry without push times, that is what retention policies see.

usage: make-oci-layout.py DIR NAME[@CREATED] [NAME[@CREATED]...]
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def put_blob(root, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(root, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def layer_for(name):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        content = f"{name} says hello from regent's demo\n".encode()
        info = tarfile.TarInfo(f"{name}.txt")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return tar_bytes, gzip.compress(tar_bytes, mtime=0)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, names = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    manifests = []
    for spec in names:
        name, _, created = spec.partition("@")
        tar_bytes, gz = layer_for(name)
        layer = put_blob(root, gz)
        config = {
            "created": created or "2026-01-01T00:00:00Z",
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"demo.image": name}},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]},
        }
        config_desc = put_blob(root, json.dumps(config, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }
        desc = put_blob(root, json.dumps(manifest, sort_keys=True).encode())
        manifests.append({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            **desc,
            "annotations": {"org.opencontainers.image.ref.name": name},
        })
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}, f)


if __name__ == "__main__":
    main()
