"""Placeholder."""
from werkzeug.wrappers import Response


class Gateway:
    def __init__(self, runtime, moto_app):
        self.runtime = runtime
        self.moto = moto_app

    def handle_execute_api(self, environ, start_response, api_id, region):
        return Response("not yet", status=501)(environ, start_response)
