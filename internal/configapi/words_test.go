package configapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// i18nKeys reads the keys of web/static/i18n.js, by language.
func i18nKeys(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "static", "i18n.js"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	line := regexp.MustCompile(`^\s*"([^"]+)":\s*"((?:[^"\\]|\\.)*)",?\s*$`)
	lang := ""
	for _, l := range strings.Split(string(b), "\n") {
		switch strings.TrimSpace(l) {
		case "zh: {":
			lang = "zh"
			continue
		case "en: {":
			lang = "en"
			continue
		}
		if m := line.FindStringSubmatch(l); m != nil && lang != "" {
			if out[lang] == nil {
				out[lang] = map[string]string{}
			}
			out[lang][m[1]] = m[2]
		}
	}
	if len(out["zh"]) < 100 || len(out["en"]) < 100 {
		t.Fatalf("i18n.js read as %d Chinese and %d English texts", len(out["zh"]), len(out["en"]))
	}
	return out
}

// emitted finds, in the sources that answer the page, every code the
// server can send and the i18n key the page words it with. A code is a
// string literal in one of the places codes are made: the Code of an
// apiError or a config.FieldError, the code argument of fieldErr,
// badRequest and the validators' add, a danger, a save note's action, the
// codes the classifying functions return, and "code" members of answers.
func emitted(t *testing.T) map[string][]string {
	t.Helper()
	files := []string{}
	for _, dir := range []string{".", filepath.Join("..", "config")} {
		m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	files = append(files, filepath.Join("..", "relay", "refusals.go"))
	// The namespaces of the codes functions return (by result index).
	returns := map[string]struct {
		index    int
		prefixes []string
	}{
		"fixFor":         {0, []string{"fix."}},
		"failureFix":     {1, []string{"fix."}},
		"dropFor":        {0, []string{"drop."}},
		"ignoredCode":    {0, []string{"drop.ignored_"}},
		"storeErrorCode": {0, []string{"test."}},
		"reachWarning":   {0, []string{"webhook.warn."}},
		"refusalCause":   {0, []string{"refusal.", "refusal.fix."}},
	}
	// The namespace of "code" members and code variables, by function.
	codeSpace := map[string]string{"checkStore": "test.", "testSettings": "test.", "relayCheck": "relay.", "fixFor": "fix.", "failureFix": "fix."}
	memberSpace := map[string]string{"warning_code": "warn.", "history_error_code": "err.", "note_code": "drop."}
	out := map[string][]string{}
	add := func(key, where string) { out[key] = append(out[key], where) }
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			name := ""
			if ok {
				name = fn.Name.Name
			}
			lit := func(e ast.Expr) (string, bool) {
				b, ok := e.(*ast.BasicLit)
				if !ok || b.Kind != token.STRING {
					return "", false
				}
				s, err := strconv.Unquote(b.Value)
				return s, err == nil
			}
			where := func(n ast.Node) string { return fset.Position(n.Pos()).String() }
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CompositeLit:
					typ := nameOf(n.Type)
					if typ == "note" && len(n.Elts) == 3 {
						if s, ok := lit(n.Elts[1]); ok && s != "" {
							add("drop."+s, where(n))
						}
					}
					for _, e := range n.Elts {
						kv, ok := e.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						k, _ := kv.Key.(*ast.Ident)
						if k == nil {
							if s, ok := lit(kv.Key); ok && memberSpace[s] != "" {
								if v, ok := lit(kv.Value); ok {
									add(memberSpace[s]+v, where(kv))
								}
							}
							continue
						}
						v, isLit := lit(kv.Value)
						switch {
						case k.Name == "Code" && (typ == "apiError" || typ == "FieldError") && isLit:
							add("err."+v, where(kv))
						case k.Name == "Code" && typ == "danger" && isLit:
							add("danger."+v, where(kv))
						case k.Name == "Code" && typ == "Error" && isLit: // a sentryapi.Error
							add("sentryp.err."+v, where(kv))
							add("sentryp.fix."+v, where(kv))
						case k.Name == "Action" && typ == "saveNote" && isLit:
							add("history.action."+v, where(kv))
						case k.Name == "Code" && (typ == "apiError" || typ == "FieldError" || typ == "danger"):
							if name != "add" && name != "fieldErr" && name != "badRequest" && name != "Validate" {
								t.Errorf("%s: a code that is not a literal cannot be checked", where(kv))
							}
						}
					}
				case *ast.CallExpr:
					callee := nameOf(n.Fun)
					if (callee == "fieldErr" || callee == "badRequest" || callee == "add") && len(n.Args) >= 2 {
						if s, ok := lit(n.Args[1]); ok {
							add("err."+s, where(n))
						}
					}
				case *ast.ReturnStmt:
					if r, ok := returns[name]; ok && r.index < len(n.Results) {
						if s, ok := lit(n.Results[r.index]); ok && s != "" {
							for _, p := range r.prefixes {
								add(p+s, where(n))
							}
						}
					}
				case *ast.AssignStmt:
					if len(n.Lhs) != len(n.Rhs) {
						break
					}
					for i, l := range n.Lhs {
						s, ok := lit(n.Rhs[i])
						if !ok || s == "" {
							continue
						}
						switch l := l.(type) {
						case *ast.Ident:
							if l.Name == "code" {
								space := codeSpace[name]
								if space == "" {
									space = "err."
								}
								add(space+s, where(n))
							}
						case *ast.IndexExpr:
							k, ok := lit(l.Index)
							if !ok {
								continue
							}
							if k == "code" {
								space := codeSpace[name]
								if space == "" {
									space = "err."
								}
								add(space+s, where(n))
							} else if memberSpace[k] != "" {
								add(memberSpace[k]+s, where(n))
							}
						}
					}
				}
				return true
			})
		}
	}
	for _, code := range fixTexts {
		add("fix."+code, "fixTexts")
	}
	// Codes of other packages the page words: Sentry's refusals
	// (sentryapi.Code…) and the import report of the original
	// (original.Code…, Why…, Reason…), by the prefix of their constants.
	for file, spaces := range map[string]map[string][]string{
		filepath.Join("..", "sentryapi", "sentryapi.go"): {"Code": {"sentryp.err.", "sentryp.fix."}},
		filepath.Join("..", "original", "report.go"):     {"Code": {"original.problem."}, "Why": {"original.why."}, "Reason": {"original.reason."}},
	} {
		sf, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(sf, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				for prefix, keys := range spaces {
					b, ok := vs.Values[i].(*ast.BasicLit)
					if !strings.HasPrefix(name.Name, prefix) || !ok || b.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(b.Value)
					for _, k := range keys {
						add(k+v, file+": "+name.Name)
					}
				}
			}
			return true
		})
	}
	// The relay's own states, which the relay check passes on as codes.
	for _, s := range []string{"ok", "degraded", "failing"} {
		add("relay."+s, "relay deployCheck")
	}
	return out
}

// TestEveryCodeHasWords: every code the server can send has a Chinese and
// an English text in web/static/i18n.js, so the page never shows the
// server's English to a Chinese reader (nor the reverse).
func TestEveryCodeHasWords(t *testing.T) {
	texts := i18nKeys(t)
	codes := emitted(t)
	if len(codes) < 120 {
		t.Fatalf("found only %d codes; is the scan broken?", len(codes))
	}
	var keys []string
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, lang := range []string{"zh", "en"} {
			if texts[lang][k] == "" {
				t.Errorf("%s has no %s text (emitted at %s)", k, lang, codes[k][0])
			}
		}
	}
	// And the page has no regular expressions translating server prose.
	b, _ := os.ReadFile(filepath.Join("..", "..", "web", "static", "i18n.js"))
	if strings.Contains(string(b), "I18N_MESSAGES") {
		t.Error("i18n.js still translates the server's English with patterns")
	}
}

// TestEnglishPlurals: English texts never put a count before a plural
// noun as is ("1 projects"); they use {n|project|projects}.
func TestEnglishPlurals(t *testing.T) {
	texts := i18nKeys(t)
	bad := regexp.MustCompile(`\{(n|o|w|r|p|c|count|total|removed|max|min|days|projects|limit)\} (more )?[a-z]+s\b`)
	var keys []string
	for k := range texts["en"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m := bad.FindString(texts["en"][k]); m != "" && !strings.Contains(m, "bytes") {
			t.Errorf("%s: %q puts a count before a plural as is", k, m)
		}
	}
}

// TestFixTextsAreCoded: every explanation a robot kind gives for its
// vendor's codes (probed with each code its source names and the vendors'
// messages, in English and Chinese) is coded in fixTexts, so the page can
// word it in either language.
func TestFixTextsAreCoded(t *testing.T) {
	codes := map[int]bool{0: true, -1: true}
	dirs, _ := filepath.Glob(filepath.Join("..", "notify", "*"))
	dirs = append(dirs, filepath.Join("..", "notify"), filepath.Join("..", "dispatch"))
	fset := token.NewFileSet()
	// Fixes written out: the fix… constants and the Fix of an error.
	fixed := map[string]string{}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				str := func(e ast.Expr) {
					if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
						if v, err := strconv.Unquote(b.Value); err == nil && v != "" {
							fixed[v] = fset.Position(b.Pos()).String()
						}
					}
				}
				if vs, ok := n.(*ast.ValueSpec); ok {
					for i, name := range vs.Names {
						if strings.HasPrefix(name.Name, "fix") && i < len(vs.Values) {
							str(vs.Values[i])
						}
					}
				}
				if kv, ok := n.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Fix" {
						str(kv.Value)
					}
				}
				if cc, ok := n.(*ast.CaseClause); ok {
					for _, e := range cc.List {
						if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.INT {
							if v, err := strconv.Atoi(b.Value); err == nil {
								codes[v] = true
							}
						}
						if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.SUB {
							if b, ok := u.X.(*ast.BasicLit); ok && b.Kind == token.INT {
								if v, err := strconv.Atoi(b.Value); err == nil {
									codes[-v] = true
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	if len(codes) < 20 || len(fixed) < 5 {
		t.Fatalf("found only %d vendor codes and %d fixes in internal/notify", len(codes), len(fixed))
	}
	for text, where := range fixed {
		coded := fixTexts[text] != ""
		for _, k := range testKinds.All() {
			coded = coded || fixTexts[fixKey(k, text)] != ""
		}
		if !coded {
			t.Errorf("%s: the fix %q is not coded in fixTexts", where, text)
		}
	}
	msgs := []string{"", "invalid timestamp", "timestamp", "sign not match", "sign", "keywords not in content", "关键词不匹配",
		"ip 1.2.3.4 not in whitelist", "白名单", "too many request", "frequency limited",
		"description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都要传递",
		"description:机器人发送签名过期;solution:请保持发送的时间戳在timestampms之内",
		"description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词"}
	reported := map[string]bool{}
	for _, k := range testKinds.All() {
		if k.Explain == nil {
			continue
		}
		for code := range codes {
			for _, m := range msgs {
				if fix := k.Explain(code, m); fix != "" && fixTexts[fixKey(k, fix)] == "" && !reported[fix] {
					reported[fix] = true
					t.Errorf("%s: the explanation of code %d (%q) is not coded in fixTexts: %q", k.Name, code, m, fix)
				}
			}
		}
	}
}

// nameOf is the name an identifier or a selector (pkg.Name) ends with, or
// "".
func nameOf(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}
