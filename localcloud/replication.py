"""Placeholder: replaced by its concern's implementation."""


def install() -> None:
    pass


class Replicator:
    name = "replication"

    def __init__(self, runtime):
        self.runtime = runtime

    def start(self):
        pass

    def stop(self):
        pass

    def reset(self):
        pass

    def status(self):
        return {}
