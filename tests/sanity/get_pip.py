"""Offline stand-in for the get-pip.py that ansible-test downloads from Ansible's CI file server.

ansible-test runs most sanity tests in virtual environments of its own and bootstraps pip into
each with a get-pip.py fetched from a host this machine cannot reach; its error message says to
save the script under ~/.ansible/test/cache/ instead, which `make sanity` does with this one.
It does the same job with what Python ships: ensurepip installs the bundled pip, which then
installs ansible-test's pinned pip (and its pinned test requirements) from the package index.
"""

import ensurepip
import os
import subprocess
import sys

# get-pip.py's own options, which `pip install` does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

environment = dict(os.environ)  # ensurepip sets PIP_CONFIG_FILE=/dev/null in os.environ
ensurepip.bootstrap(upgrade=False, default_pip=True)
arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *arguments], env=environment))
