package guide

// Pending are the instructions of the formats whose native protocol is not
// served yet: their endpoints are what CodeArtifact hands out, and the
// control plane serves their packages. Each moves into its format's package,
// with the format's plug-in, when the protocol is built.
var Pending = []Guide{}
