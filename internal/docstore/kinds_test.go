package docstore_test

// The tests parse configuration documents, whose robot kinds come from the
// registry, as in the programs.
import _ "github.com/sentry-white/sentry-white/internal/notifiers"
