package sandbox

// DevCredentialsKeys is the credentials.keys of the demo, the fault
// harness and the benchmark: a fixed, published key, so that every process
// of a sandbox fleet (the tools that add tenants and the workers that read
// them) opens the same sealed secrets. It protects nothing and must never
// seal a real secret.
const DevCredentialsKeys = "sandbox-dev=c2FuZGJveC1kZXYta2V5LW5vdC1mb3ItcmVhbC11c2U="
