package actions

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
)

// The pages the relay serves for a link: plain server-rendered HTML with
// its CSS inline, no script and nothing fetched from elsewhere, so they
// open the same in DingTalk's, WeCom's and Feishu's in-app browsers, on a
// phone and on a desktop. Every text is in both languages, the relay's
// message language first (Chinese unless -lang en).

// bi is a text in both languages.
type bi struct{ Zh, En string }

func biF(zh, en string, args ...any) bi {
	return bi{Zh: fmt.Sprintf(zh, args...), En: fmt.Sprintf(en, args...)}
}

// line is a text as a page shows it: the first language, then the other.
type line struct {
	First, Second         string
	FirstLang, SecondLang string
}

func (h *Handler) line(t bi) line {
	if h.o.Lang == "en" {
		return line{First: t.En, Second: t.Zh, FirstLang: "en", SecondLang: "zh-CN"}
	}
	return line{First: t.Zh, Second: t.En, FirstLang: "zh-CN", SecondLang: "en"}
}

// actionWords are each action's words: the page's heading, its button,
// and what was done.
var actionWords = map[string]struct{ heading, button, done, already bi }{
	actlink.Resolve: {bi{"解决这个问题", "Resolve this issue"}, bi{"解决", "Resolve"},
		bi{"已解决", "Resolved"}, bi{"这个问题已经是已解决状态，没有再改动", "The issue was already resolved; nothing was changed"}},
	actlink.Ignore: {bi{"忽略这个问题 1 小时", "Ignore this issue for an hour"}, bi{"忽略 1 小时", "Ignore for an hour"},
		bi{"已忽略 1 小时", "Ignored for an hour"}, bi{"这个问题已经是忽略状态，没有再改动", "The issue was already ignored; nothing was changed"}},
	actlink.Take: {bi{"我来处理这个问题", "Take this issue"}, bi{"我来处理", "I'll take it"},
		bi{"已指派", "Assigned"}, bi{"这个问题已经指派给这个人，没有再改动", "The issue was already assigned to this person; nothing was changed"}},
}

// stateWords words an issue's state as Sentry reports it.
func (h *Handler) stateWords(is *sentryapi.Issue) bi {
	var s bi
	switch is.Status {
	case "resolved":
		s = bi{"已解决", "resolved"}
	case "ignored":
		s = bi{"已忽略（归档）", "ignored (archived)"}
		if t, err := time.Parse(time.RFC3339, is.StatusDetails.IgnoreUntil); err == nil {
			at := t.In(h.zone()).Format("2006-01-02 15:04")
			s = biF("已忽略（归档）到 %s", "ignored (archived) until %s", at)
		}
	case "unresolved":
		s = bi{"未解决", "unresolved"}
		switch is.Substatus {
		case "regressed":
			s = bi{"未解决（回归）", "unresolved (regressed)"}
		case "escalating":
			s = bi{"未解决（升级中）", "unresolved (escalating)"}
		case "new":
			s = bi{"未解决（新问题）", "unresolved (new)"}
		}
	default:
		s = bi{is.Status, is.Status}
	}
	if a := is.AssignedTo; a != nil && a.Name != "" {
		s.Zh += "，指派给 " + a.Name
		s.En += ", assigned to " + a.Name
	}
	return s
}

// page is what every page shows.
type page struct {
	Lang    string
	Title   line
	Heading line
	Kind    string // ok, info, warn, error: the heading's colour
	Lines   []line // paragraphs under the heading
	Issue   *issueView
	Form    *formView
	Sentry  string // the issue in Sentry, when known
	Footer  []line
}

type issueView struct {
	Title   string
	Project string
	State   line
	Labels  struct{ Project, State line }
}

type formView struct {
	Action   string // the link's path
	Token    string
	Legend   line
	Owners   []ownerChoice
	Button   line
	Note     *line // e.g. the issue already is so
	Problem  *line // a choice the last post lacked
	Disabled bool
}

type ownerChoice struct {
	ID       int64
	Name     string
	Checked  bool
	Disabled bool
	Note     line // why disabled
}

// tmpl is parsed at its first use, not at start: a cold relay answers its
// first webhook without paying for a page only an action link shows.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex, nofollow">
<link rel="icon" href="data:,">
<title>{{.Title.First}} · 哨兵小白</title>
<style>
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2329;font:17px/1.55 -apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",sans-serif;-webkit-text-size-adjust:100%}
main{max-width:36rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:12px;padding:1rem 1.1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h1{font-size:1.35rem;line-height:1.35;margin:.2rem 0 .8rem;overflow-wrap:anywhere}
h1.ok{color:#1a7f37}h1.warn{color:#9a6700}h1.error{color:#cf222e}h1.info{color:#0550ae}
.alt{display:block;color:#646a73;font-size:.82em;font-weight:normal}
p{margin:.5rem 0;overflow-wrap:anywhere}
.issue-title{font-weight:600;font-size:1.05rem;overflow-wrap:anywhere;margin:0 0 .6rem}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:.35rem .8rem}
dt{color:#646a73;font-size:.9rem}dt .alt{font-size:.75rem}
dd{margin:0;overflow-wrap:anywhere}
a{color:#0550ae}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend{font-weight:600;margin-bottom:.4rem;padding:0}
label.who{display:flex;align-items:center;gap:.6rem;min-height:2.9rem;padding:.35rem .7rem;margin:.35rem 0;border:1px solid #d0d7de;border-radius:10px;background:#fff}
label.who input{width:1.3rem;height:1.3rem;margin:0;flex:none}
label.who.off{color:#8c959f;background:#f6f8fa}
label.who small{display:block;font-size:.8rem;color:#8c959f}
button{display:block;width:100%;min-height:3.4rem;border:0;border-radius:12px;background:#0969da;color:#fff;font:inherit;font-size:1.2rem;font-weight:600;cursor:pointer}
button .alt{color:#dbe9ff;font-size:.8rem}
button:disabled{background:#8c959f}
.note{background:#fff8c5;border-radius:8px;padding:.5rem .7rem}
.problem{background:#ffebe9;border-radius:8px;padding:.5rem .7rem}
footer{color:#646a73;font-size:.85rem;padding:0 .2rem}
@media (min-width:48rem){main{padding:2.5rem 1rem}h1{font-size:1.6rem}}
</style>
</head>
<body>
<main>
<div class="card">
<h1 id="heading" class="{{.Kind}}">{{template "bi" .Heading}}</h1>
{{range .Lines}}<p>{{template "bi" .}}</p>
{{end}}{{with .Issue}}<p class="issue-title" id="issue-title">{{.Title}}</p>
<dl>
<dt>{{template "bi" .Labels.Project}}</dt><dd id="issue-project">{{.Project}}</dd>
<dt>{{template "bi" .Labels.State}}</dt><dd id="issue-state">{{template "bi" .State}}</dd>
</dl>
{{end}}{{with .Sentry}}<p><a id="sentry-link" href="{{.}}" rel="noreferrer noopener">在 Sentry 中打开 · Open in Sentry</a></p>{{end}}
</div>
{{with .Form}}<form class="card" method="post" action="{{.Action}}" id="act-form">
{{with .Problem}}<p class="problem" id="problem">{{template "bi" .}}</p>{{end}}
{{with .Note}}<p class="note" id="note">{{template "bi" .}}</p>{{end}}
<fieldset>
<legend>{{template "bi" .Legend}}</legend>
{{range .Owners}}<label class="who{{if .Disabled}} off{{end}}"><input type="radio" name="who" value="{{.ID}}" id="who-{{.ID}}"{{if .Checked}} checked{{end}}{{if .Disabled}} disabled{{end}} required><span>{{.Name}}{{if .Disabled}}<small>{{.Note.First}} · {{.Note.Second}}</small>{{end}}</span></label>
{{end}}</fieldset>
<input type="hidden" name="ft" value="{{.Token}}">
<button type="submit" id="act"{{if .Disabled}} disabled{{end}}>{{template "bi" .Button}}</button>
</form>
{{end}}<footer>{{range .Footer}}<p>{{template "bi" .}}</p>{{end}}<p>哨兵小白 · sentry-white</p></footer>
</main>
</body>
</html>
{{define "bi"}}<span lang="{{.FirstLang}}">{{.First}}</span>{{if and .Second (ne .Second .First)}}<span class="alt" lang="{{.SecondLang}}">{{.Second}}</span>{{end}}{{end}}`))
})

// write answers a page with status.
func (h *Handler) write(w http.ResponseWriter, status int, p *page) {
	p.Lang = "zh-CN"
	if h.o.Lang == "en" {
		p.Lang = "en"
	}
	if p.Title.First == "" {
		p.Title = p.Heading
	}
	var buf bytes.Buffer
	if err := tmpl().Execute(&buf, p); err != nil {
		h.log.Error("action page not rendered", "error", err.Error())
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// message answers a page that only tells something: a refused link, a
// refused post, a fault.
func (h *Handler) message(w http.ResponseWriter, status int, kind string, heading bi, lines ...bi) {
	p := &page{Kind: kind, Heading: h.line(heading)}
	for _, l := range lines {
		p.Lines = append(p.Lines, h.line(l))
	}
	h.write(w, status, p)
}

func (h *Handler) zone() *time.Location {
	if h.o.Zone != nil {
		return h.o.Zone
	}
	return render.Shanghai
}

// sentryWords says a Sentry refusal in both languages: what happened and
// what to do, with Sentry's own words (English) as the detail. permission
// is what the token needs for what was asked.
func sentryWords(e *sentryapi.Error, permission string) []bi {
	var what bi
	switch e.Code {
	case sentryapi.CodeForbidden:
		what = biF("Sentry 拒绝了：这个组织的 Sentry 令牌没有权限 %s。请在 Sentry 的 Settings → Developer Settings → Custom Integrations 里给这个内部集成加上它。",
			"Sentry refused: the organization's Sentry token lacks the permission %s. Add it to the internal integration in Sentry (Settings → Developer Settings → Custom Integrations).", permission)
	case sentryapi.CodeUnauthorized, sentryapi.CodeNoToken:
		what = bi{"Sentry 拒绝了这个组织的令牌（错误、过期或已吊销）。", "Sentry refused the organization's token (wrong, expired or revoked)."}
	case sentryapi.CodeNotFound:
		what = bi{"Sentry 里找不到这个问题：它可能已被删除或合并，或者令牌看不到它所在的项目。", "Sentry has no such issue: it was deleted or merged, or the token cannot see its project."}
	case sentryapi.CodeRateLimited:
		what = bi{"Sentry 暂时限流（429），这次没有执行，什么也没有改动。请过一分钟再试。", "Sentry is rate-limiting (429): nothing was done and nothing changed. Try again in a minute."}
	case sentryapi.CodeTimeout:
		what = bi{"Sentry 没有及时回应。", "Sentry did not answer in time."}
	case sentryapi.CodeBadRequest:
		what = bi{"Sentry 拒绝了这次改动，什么也没有改动。", "Sentry refused the change; nothing changed."}
		if strings.Contains(e.Detail, "assignedTo") {
			what = bi{"Sentry 不认识这个人：他不是这个 Sentry 组织的成员（或不在该项目的团队里），什么也没有改动。",
				"Sentry does not know this person as a member of the organization (or of a team of the project); nothing changed."}
		}
	case sentryapi.CodeNetwork, sentryapi.CodeServer, sentryapi.CodeNotJSON, sentryapi.CodeLoopback, sentryapi.CodeRedirect:
		what = bi{"现在连不上 Sentry。", "Sentry cannot be reached now."}
	default:
		what = bi{"Sentry 没有完成这次操作。", "Sentry did not do it."}
	}
	detail := e.Msg + " — " + e.Fix
	return []bi{what, {detail, detail}}
}
