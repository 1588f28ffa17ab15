package configapi

// codes are the codes this API sends the page, by the namespace the page's
// strings word them in: web/static/i18n/zh.json and en.json hold
// "<namespace><code>" for each (TestEveryCodeHasWords). A code the API
// sends must be listed here or in the list of the package that makes it
// (Codes of internal/config, internal/sentryapi and internal/original, the
// relay's refusal causes): every answer the tests receive is checked
// against the lists. A robot kind words its own fixes (notify.Kind.Fixes).
var codes = map[string][]string{
	// Errors and field errors.
	"err.": {
		"admin_key_required", "admin_key_short", "already_configured", "already_resent", "bad_url", "body_object",
		"body_shape", "body_unreadable", "busy", "choose_project", "content_type", "convert", "delivery_not_found",
		"document_empty", "document_exists", "document_object", "filter_level", "filter_limit", "filter_result",
		"filter_since", "folder_path", "history_unwritten", "host", "invalid_document", "json_type", "lang",
		"mobile_taken", "no_endpoint", "no_message", "no_original", "no_relay_url", "no_slug", "no_token",
		"not_document", "not_failed", "not_found", "org_slug_required", "origin", "original_changed", "oss_bucket",
		"oss_endpoint", "oss_endpoint_required", "oss_prefix", "oss_region", "oss_region_required", "path_id",
		"path_index", "payload", "project_slug", "projects_body", "ref_missing", "referenced", "relay_url",
		"relay_url_extra", "relay_url_http", "relay_url_invalid", "relay_url_required", "required", "robot_changed",
		"robot_deleted", "schedule_invalid", "schedule_object", "secret_masked", "secret_prefix", "secret_unused",
		"sentry_token_alone", "sentry_token_required", "sentry_url", "settings_write", "slug_taken", "stale",
		"store", "store_closed", "store_kind", "timeline_days", "timeline_from", "token", "token_body",
		"token_taken", "too_large", "too_long", "url_body", "url_unknown", "validation", "version_invalid",
		"version_json"},
	// Risky changes of an import, a restore or a save.
	"danger.": {"removes_most", "robot_unlinked", "secret_changed", "secret_cleared", "token_changed"},
	// Why a test alert or a preview sent nothing (note_code, dropped_code).
	"drop.": {"environment", "follow_ups", "ignored_comment", "ignored_installation", "ignored_resource", "level",
		"no_robot", "text"},
	// What to do about a failed delivery its robot's kind did not word.
	"fix.": {"errcode", "http_404", "server", "unreachable", "unsupported_kind", "text"},
	// What a save did (the history).
	"history.action.": {"create", "delete", "edit", "import", "original", "restore", "sentry", "token"},
	// The relay check.
	"relay.": {"degraded", "failing", "not_relay", "ok", "token_mismatch", "unreachable"},
	// Sentry's projects: the API's own failure beside sentryapi's codes.
	"sentryp.err.": {"error"},
	"sentryp.fix.": {"error"},
	// The connection test of the settings, and a store's failure (cause).
	"test.": {"admin_key", "credentials", "error", "invalid_document", "no_admin_api", "no_bucket", "no_document", "ok",
		"open", "public_endpoint", "relay_store", "relay_unreachable", "unreachable", "wrong_region"},
	// A preview of another project's payload.
	// A preview of another project's payload; escalation that cannot know
	// when an alert is taken (no issue webhook from the organization).
	"warn.": {"other_project", "no_issue_webhooks", "no_issue_webhooks_links"},
	// Why a preview's messages carry no action links (action_links.off_code).
	"links.off.": {"no_relay_url", "no_organization", "no_api_token", "follow_up", "no_issue"},
	// An action taken from the chat in the history: what, and how it went.
	"action.kind.":    {"resolve", "ignore", "take"},
	"action.outcome.": {"done", "already", "refused", "unknown"},
	// A relay URL Sentry may not reach.
	"webhook.warn.": {"loopback", "plain_http", "private"},
}
