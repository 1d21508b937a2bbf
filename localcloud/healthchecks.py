"""Placeholder."""
class HealthChecker:
    name = "health_checks"

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
