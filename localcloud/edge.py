"""Placeholder."""


class Edge:
    def __init__(self, runtime, gateway):
        self.runtime = runtime
        self.gateway = gateway

    def serves(self, host):
        return False
