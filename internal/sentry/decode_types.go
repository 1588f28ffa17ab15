package sentry

// The fast decoder's readers of the structs in types.go, one per struct:
// each reads the members its struct has (once each) and skips the others.
// Names lists each struct's JSON names in lower case, for scan.other.

var (
	wholeNames       = jsonNames(whole{})
	eventNames       = jsonNames(eventBody{})
	metadataNames    = jsonNames(metadata{})
	logentryNames    = jsonNames(logentry{})
	exceptionNames   = jsonNames(exceptionBody{})
	excValueNames    = jsonNames(exceptionValue{})
	userNames        = jsonNames(userBody{})
	httpNames        = jsonNames(httpBody{})
	occurrenceNames  = jsonNames(occurrence{})
	personNames      = jsonNames(person{})
	projectNames     = jsonNames(issueProject{})
	issueNames       = jsonNames(issueBody{})
	alertRuleNames   = jsonNames(alertRule{})
	metricNames      = jsonNames(metricBody{})
	installNames     = jsonNames(installationBody{})
	actorNames       = jsonNames(actorBody{})
	titledNames      = jsonNames(titled{})
	installDataNames = jsonNames(installationData{})
	dataNames        = jsonNames(dataBody{})
)

// fastDecode fills w from body (a JSON object, trimmed) as json.Unmarshal
// would; data reports whether the body has a "data" member. ok is false
// when the fast decoder gives up (see decode.go).
func fastDecode(body []byte, w *whole) (data, ok bool) {
	s := &scan{b: body}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "id":
			s.seen(&set, 0)
			s.flex(&w.ID)
		case "project":
			s.seen(&set, 1)
			s.flex(&w.Project)
		case "project_name":
			s.seen(&set, 2)
			s.flex(&w.ProjectName)
		case "project_slug":
			s.seen(&set, 3)
			s.flex(&w.ProjectSlug)
		case "level":
			s.seen(&set, 4)
			s.flex(&w.Level)
		case "culprit":
			s.seen(&set, 5)
			s.flex(&w.Culprit)
		case "message":
			s.seen(&set, 6)
			s.flex(&w.Message)
		case "url":
			s.seen(&set, 7)
			s.flex(&w.URL)
		case "triggering_rules":
			s.seen(&set, 8)
			s.list(&w.TriggeringRules)
		case "event":
			s.seen(&set, 9)
			pointer(s, &w.Event, readEvent)
		case "action":
			s.seen(&set, 10)
			s.flex(&w.Action)
		case "installation":
			s.seen(&set, 11)
			readInstallation(s, &w.Installation)
		case "data":
			s.seen(&set, 12)
			data = true
			pointer(s, &w.Data, readData)
		case "actor":
			s.seen(&set, 13)
			readActor(s, &w.Actor)
		default:
			s.other(k, wholeNames)
		}
	}
	s.ws()
	if s.i != len(s.b) {
		s.fail() // data after the object
	}
	return data, !s.bad
}

// pointer reads a value into a pointer to a struct as encoding/json does:
// null clears it; any other value allocates it if needed, and an object is
// read into it.
func pointer[T any](s *scan, p **T, read func(*scan, *T)) {
	if s.peek() == 'n' {
		s.literal("null")
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	read(s, *p)
}

func readEvent(s *scan, e *eventBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "event_id":
			s.seen(&set, 0)
			s.flex(&e.EventID)
		case "id":
			s.seen(&set, 1)
			s.flex(&e.ID)
		case "level":
			s.seen(&set, 2)
			s.flex(&e.Level)
		case "platform":
			s.seen(&set, 3)
			s.flex(&e.Platform)
		case "title":
			s.seen(&set, 4)
			s.flex(&e.Title)
		case "culprit":
			s.seen(&set, 5)
			s.flex(&e.Culprit)
		case "location":
			s.seen(&set, 6)
			s.flex(&e.Location)
		case "message":
			s.seen(&set, 7)
			s.flex(&e.Message)
		case "transaction":
			s.seen(&set, 8)
			s.flex(&e.Transaction)
		case "metadata":
			s.seen(&set, 9)
			readMetadata(s, &e.Metadata)
		case "logentry":
			s.seen(&set, 10)
			readLogentry(s, &e.Logentry)
		case "exception":
			s.seen(&set, 11)
			readException(s, &e.Exception)
		case "environment":
			s.seen(&set, 12)
			s.flex(&e.Environment)
		case "release":
			s.seen(&set, 13)
			s.flex(&e.Release)
		case "timestamp":
			s.seen(&set, 14)
			s.when(&e.Timestamp)
		case "datetime":
			s.seen(&set, 15)
			s.when(&e.Datetime)
		case "received":
			s.seen(&set, 16)
			s.when(&e.Received)
		case "tags":
			s.seen(&set, 17)
			s.tags(&e.Tags)
		case "user":
			s.seen(&set, 18)
			readUser(s, &e.User)
		case "request":
			s.seen(&set, 19)
			readHTTP(s, &e.Request)
		case "firstSeen":
			s.seen(&set, 20)
			s.when(&e.FirstSeen)
		case "lastSeen":
			s.seen(&set, 21)
			s.when(&e.LastSeen)
		case "sentry.interfaces.User":
			s.seen(&set, 22)
			pointer(s, &e.LegacyUser, readUser)
		case "sentry.interfaces.Http":
			s.seen(&set, 23)
			pointer(s, &e.LegacyHTTP, readHTTP)
		case "sentry.interfaces.Message":
			s.seen(&set, 24)
			pointer(s, &e.LegacyMessage, readLogentry)
		case "sentry.interfaces.Exception":
			s.seen(&set, 25)
			pointer(s, &e.LegacyException, readException)
		case "project":
			s.seen(&set, 26)
			s.flex(&e.Project)
		case "url":
			s.seen(&set, 27)
			s.flex(&e.URL)
		case "web_url":
			s.seen(&set, 28)
			s.flex(&e.WebURL)
		case "issue_url":
			s.seen(&set, 29)
			s.flex(&e.IssueURL)
		case "issue_id":
			s.seen(&set, 30)
			s.flex(&e.IssueID)
		case "occurrence":
			s.seen(&set, 31)
			readOccurrence(s, &e.Occurrence)
		default:
			s.other(k, eventNames)
		}
	}
}

func readMetadata(s *scan, m *metadata) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "type":
			s.seen(&set, 0)
			s.flex(&m.Type)
		case "value":
			s.seen(&set, 1)
			s.flex(&m.Value)
		case "title":
			s.seen(&set, 2)
			s.flex(&m.Title)
		default:
			s.other(k, metadataNames)
		}
	}
}

func readLogentry(s *scan, l *logentry) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "formatted":
			s.seen(&set, 0)
			s.flex(&l.Formatted)
		case "message":
			s.seen(&set, 1)
			s.flex(&l.Message)
		default:
			s.other(k, logentryNames)
		}
	}
}

func readException(s *scan, x *exceptionBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "values":
			s.seen(&set, 0)
			readExceptionValues(s, &x.Values)
		default:
			s.other(k, exceptionNames)
		}
	}
}

// readExceptionValues reads a list into a slice as encoding/json does:
// null clears it, another value leaves it, each element is read into a
// new one (an element not an object stays empty).
func readExceptionValues(s *scan, vs *[]exceptionValue) {
	switch s.peek() {
	case 'n':
		s.literal("null")
		*vs = nil
		return
	case '[':
	default:
		s.skip()
		return
	}
	out := (*vs)[:0]
	for n := 0; s.element(&n); {
		out = append(out, exceptionValue{})
		v := &out[len(out)-1]
		if !s.isObject() {
			continue
		}
		var set uint64
		for m := 0; s.member(&m); {
			switch k := s.key(); string(k) {
			case "type":
				s.seen(&set, 0)
				s.flex(&v.Type)
			case "value":
				s.seen(&set, 1)
				s.flex(&v.Value)
			default:
				s.other(k, excValueNames)
			}
		}
	}
	if out == nil {
		out = []exceptionValue{}
	}
	*vs = out
}

func readUser(s *scan, u *userBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "id":
			s.seen(&set, 0)
			s.flex(&u.ID)
		case "email":
			s.seen(&set, 1)
			s.flex(&u.Email)
		case "username":
			s.seen(&set, 2)
			s.flex(&u.Username)
		case "name":
			s.seen(&set, 3)
			s.flex(&u.Name)
		case "ip_address":
			s.seen(&set, 4)
			s.flex(&u.IPAddress)
		default:
			s.other(k, userNames)
		}
	}
}

func readHTTP(s *scan, h *httpBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "url":
			s.seen(&set, 0)
			s.flex(&h.URL)
		case "method":
			s.seen(&set, 1)
			s.flex(&h.Method)
		default:
			s.other(k, httpNames)
		}
	}
}

func readOccurrence(s *scan, o *occurrence) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "issueTitle":
			s.seen(&set, 0)
			s.flex(&o.IssueTitle)
		case "level":
			s.seen(&set, 1)
			s.flex(&o.Level)
		default:
			s.other(k, occurrenceNames)
		}
	}
}

func readPerson(s *scan, p *person) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "name":
			s.seen(&set, 0)
			s.flex(&p.Name)
		case "email":
			s.seen(&set, 1)
			s.flex(&p.Email)
		default:
			s.other(k, personNames)
		}
	}
}

func readIssueProject(s *scan, p *issueProject) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "name":
			s.seen(&set, 0)
			s.flex(&p.Name)
		case "slug":
			s.seen(&set, 1)
			s.flex(&p.Slug)
		default:
			s.other(k, projectNames)
		}
	}
}

func readIssue(s *scan, is *issueBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "id":
			s.seen(&set, 0)
			s.flex(&is.ID)
		case "shortId":
			s.seen(&set, 1)
			s.flex(&is.ShortID)
		case "title":
			s.seen(&set, 2)
			s.flex(&is.Title)
		case "culprit":
			s.seen(&set, 3)
			s.flex(&is.Culprit)
		case "level":
			s.seen(&set, 4)
			s.flex(&is.Level)
		case "substatus":
			s.seen(&set, 5)
			s.flex(&is.Substatus)
		case "platform":
			s.seen(&set, 6)
			s.flex(&is.Platform)
		case "metadata":
			s.seen(&set, 7)
			readMetadata(s, &is.Metadata)
		case "count":
			s.seen(&set, 8)
			s.flex(&is.Count)
		case "userCount":
			s.seen(&set, 9)
			s.flex(&is.UserCount)
		case "firstSeen":
			s.seen(&set, 10)
			s.when(&is.FirstSeen)
		case "lastSeen":
			s.seen(&set, 11)
			s.when(&is.LastSeen)
		case "permalink":
			s.seen(&set, 12)
			s.flex(&is.Permalink)
		case "url":
			s.seen(&set, 13)
			s.flex(&is.URL)
		case "web_url":
			s.seen(&set, 14)
			s.flex(&is.WebURL)
		case "project_url":
			s.seen(&set, 15)
			s.flex(&is.ProjectURL)
		case "isUnhandled":
			s.seen(&set, 16)
			s.flex(&is.IsUnhandled)
		case "project":
			s.seen(&set, 17)
			readIssueProject(s, &is.Project)
		case "assignedTo":
			s.seen(&set, 18)
			pointer(s, &is.AssignedTo, readPerson)
		default:
			s.other(k, issueNames)
		}
	}
}

func readAlertRule(s *scan, a *alertRule) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "name":
			s.seen(&set, 0)
			s.flex(&a.Name)
		case "environment":
			s.seen(&set, 1)
			s.flex(&a.Environment)
		case "projects":
			s.seen(&set, 2)
			s.list(&a.Projects)
		default:
			s.other(k, alertRuleNames)
		}
	}
}

func readMetric(s *scan, m *metricBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "identifier":
			s.seen(&set, 0)
			s.flex(&m.Identifier)
		case "projects":
			s.seen(&set, 1)
			s.list(&m.Projects)
		case "title":
			s.seen(&set, 2)
			s.flex(&m.Title)
		case "date_started":
			s.seen(&set, 3)
			s.when(&m.DateStarted)
		case "date_detected":
			s.seen(&set, 4)
			s.when(&m.DateDetected)
		case "date_created":
			s.seen(&set, 5)
			s.when(&m.DateCreated)
		case "date_closed":
			s.seen(&set, 6)
			s.when(&m.DateClosed)
		case "alert_rule":
			s.seen(&set, 7)
			readAlertRule(s, &m.AlertRule)
		default:
			s.other(k, metricNames)
		}
	}
}

func readInstallation(s *scan, in *installationBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "uuid":
			s.seen(&set, 0)
			s.flex(&in.UUID)
		default:
			s.other(k, installNames)
		}
	}
}

func readActor(s *scan, a *actorBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "type":
			s.seen(&set, 0)
			s.flex(&a.Type)
		case "name":
			s.seen(&set, 1)
			s.flex(&a.Name)
		default:
			s.other(k, actorNames)
		}
	}
}

func readTitled(s *scan, t *titled) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "title":
			s.seen(&set, 0)
			s.flex(&t.Title)
		default:
			s.other(k, titledNames)
		}
	}
}

func readInstallationData(s *scan, _ *installationData) {
	if !s.isObject() {
		return
	}
	for n := 0; s.member(&n); {
		k := s.key()
		s.other(k, installDataNames)
	}
}

func readData(s *scan, d *dataBody) {
	if !s.isObject() {
		return
	}
	var set uint64
	for n := 0; s.member(&n); {
		switch k := s.key(); string(k) {
		case "issue":
			s.seen(&set, 0)
			pointer(s, &d.Issue, readIssue)
		case "event":
			s.seen(&set, 1)
			pointer(s, &d.Event, readEvent)
		case "error":
			s.seen(&set, 2)
			pointer(s, &d.Error, readEvent)
		case "triggered_rule":
			s.seen(&set, 3)
			s.flex(&d.TriggeredRule)
		case "metric_alert":
			s.seen(&set, 4)
			pointer(s, &d.MetricAlert, readMetric)
		case "description_title":
			s.seen(&set, 5)
			s.flex(&d.DescriptionTitle)
		case "description_text":
			s.seen(&set, 6)
			s.flex(&d.DescriptionText)
		case "web_url":
			s.seen(&set, 7)
			s.flex(&d.WebURL)
		case "resolution_type":
			s.seen(&set, 8)
			s.flex(&d.ResolutionType)
		case "issue_alert":
			s.seen(&set, 9)
			pointer(s, &d.IssueAlert, readTitled)
		case "assignee":
			s.seen(&set, 10)
			pointer(s, &d.Assignee, readPerson)
		case "installation":
			s.seen(&set, 11)
			pointer(s, &d.Installation, readInstallationData)
		case "comment_id":
			s.seen(&set, 12)
			s.flex(&d.CommentID)
		default:
			s.other(k, dataNames)
		}
	}
}
