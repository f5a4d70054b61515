print("audit-forwarder")
