# Writes an OCI image layout tar of a directory, for `ctr images import`
# (no registry here). Usage: mkimage.py ROOTFS_DIR NAME CMD_JSON OUT.tar
import gzip, hashlib, io, json, sys, tarfile
rootfs, name, cmd, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
layer_tar = io.BytesIO()
with tarfile.open(fileobj=layer_tar, mode="w") as t:
    t.add(rootfs, arcname=".")
diff_id = "sha256:" + hashlib.sha256(layer_tar.getvalue()).hexdigest()
layer = gzip.compress(layer_tar.getvalue(), mtime=0)
def blob(data): return "sha256:" + hashlib.sha256(data).hexdigest(), data
layer_digest, _ = blob(layer)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Cmd": cmd, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
                     "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
config_digest, _ = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": len(layer)}]}).encode()
manifest_digest, _ = blob(manifest)
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": manifest_digest, "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": name}}]}).encode()
with tarfile.open(out, "w") as t:
    def add(path, data):
        info = tarfile.TarInfo(path); info.size = len(data); t.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add("index.json", index)
    for digest, data in ((layer_digest, layer), (config_digest, config), (manifest_digest, manifest)):
        add("blobs/sha256/" + digest.split(":")[1], data)
