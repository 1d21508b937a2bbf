#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_package
short_description: Build a Lambda deployment zip reproducibly
version_added: 0.1.0
description:
  - Zips a source folder so that the same source always gives the same bytes, and writes the
    zip only when its bytes differ from what is already there.
  - Why not M(community.general.archive) - it stores file modification times and the order of
    the file system, so every build of unchanged code gives a new zip, a new S3 object and a
    needless Lambda update; this module fixes times, permissions and order.
options:
  src:
    description: Folder whose files go into the zip, at the zip's root.
    type: path
    required: true
  dest:
    description: Path of the zip to write.
    type: path
    required: true
  exclude:
    description: Glob patterns (matched against each path relative to O(src) and its base name) to leave out.
    type: list
    elements: str
    default: ["__pycache__", "*.pyc", "*.pyo", ".*"]
author:
  - Event failover project team (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Build the processor's zip
  failover.aws.lambda_package:
    src: "{{ playbook_dir }}/../lambda/processor"
    dest: "{{ playbook_dir }}/../build/processor.zip"
  register: processor_zip
"""

RETURN = r"""
sha256:
  description: Hex SHA-256 of the zip.
  type: str
  returned: always
code_sha256:
  description: Base64 SHA-256 of the zip, as Lambda reports it in CodeSha256.
  type: str
  returned: always
size:
  description: Size of the zip in bytes.
  type: int
  returned: always
files:
  description: Paths stored in the zip, in order.
  type: list
  elements: str
  returned: always
dest:
  description: Path of the zip.
  type: str
  returned: always
"""

import base64
import fnmatch
import hashlib
import io
import os
import stat
import tempfile
import zipfile

from ansible.module_utils.basic import AnsibleModule

# Earliest date a zip can store: every entry gets it, so builds do not depend on mtimes.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _excluded(relative, patterns):
    parts = relative.split("/")
    return any(
        fnmatch.fnmatch(relative, pattern) or any(fnmatch.fnmatch(part, pattern) for part in parts)
        for pattern in patterns
    )


def collect(src, patterns):
    """Relative paths of the files to package, sorted so the order never varies."""
    found = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, src).replace(os.sep, "/")
            if not _excluded(relative, patterns):
                found.append(relative)
    return sorted(found)


def build(src, files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for relative in files:
            full = os.path.join(src, relative)
            info = zipfile.ZipInfo(relative, date_time=ZIP_EPOCH)
            executable = os.stat(full).st_mode & stat.S_IXUSR
            mode = 0o755 if executable else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permissions above are honoured
            with open(full, "rb") as handle:
                zf.writestr(info, handle.read(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            exclude=dict(type="list", elements="str", default=["__pycache__", "*.pyc", "*.pyo", ".*"]),
        ),
        supports_check_mode=True,
    )
    src = module.params["src"]
    dest = module.params["dest"]
    if not os.path.isdir(src):
        module.fail_json(msg=f"src {src} is not a folder: set it to the Lambda code's folder")
    files = collect(src, module.params["exclude"])
    if not files:
        module.fail_json(msg=f"src {src} holds no files to package")
    data = build(src, files)

    current = None
    if os.path.exists(dest):
        with open(dest, "rb") as handle:
            current = handle.read()
    changed = current != data
    if changed and not module.check_mode:
        folder = os.path.dirname(os.path.abspath(dest))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".zip.tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)

    digest = hashlib.sha256(data)
    module.exit_json(
        changed=changed,
        dest=dest,
        sha256=digest.hexdigest(),
        code_sha256=base64.b64encode(digest.digest()).decode("ascii"),
        size=len(data),
        files=files,
    )


if __name__ == "__main__":
    main()
