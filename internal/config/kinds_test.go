package config_test

// The document's robot kinds come from the registry, as in the programs:
// importing it here registers them for every test of the package.
import _ "github.com/sentry-white/sentry-white/internal/notifiers"
