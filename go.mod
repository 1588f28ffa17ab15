module github.com/sentry-white/sentry-white

go 1.26
