"""The SDK's implementation. Use the names re-exported by `thereyet`."""
