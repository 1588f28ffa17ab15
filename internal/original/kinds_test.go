package original_test

// The tests validate converted documents, whose robot kinds come from the
// registry, as in the programs.
import _ "github.com/sentry-white/sentry-white/internal/notifiers"
