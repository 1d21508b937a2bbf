"""API Gateway: full-fidelity OpenAPI import (control) and the REST API data plane (gateway)."""
