"""A local two-region AWS cloud: moto's control plane plus the data plane AWS manages."""
