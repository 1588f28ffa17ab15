// Command minrelay is the floor of the FC-shaped benchmarks (tools/load
// -fc): the least a relay must do for a legacy Sentry webhook — read the
// document once, decode the webhook, look its project up, sign and post
// one DingTalk message, answer. No validation, spool, history, budgets or
// retries. The load tool builds it and runs it in the same cgroup as the
// relay.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type robot struct {
	ID              int64
	AccessToken     string `json:"access_token"`
	Secret, Keyword string
}

type document struct {
	WebhookToken string `json:"webhook_token"`
	Owners       []struct {
		ID     int64  `json:"id"`
		Mobile string `json:"mobile"`
	} `json:"owners"`
	Robots   []robot `json:"robots"`
	Projects []struct {
		Slug     string  `json:"slug"`
		OwnerIDs []int64 `json:"owner_ids"`
		RobotIDs []int64 `json:"robot_ids"`
	} `json:"projects"`
}

type target struct {
	robots  []robot
	mobiles []string
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	docURL := flag.String("doc", "", "URL of the configuration document")
	api := flag.String("dingtalk", "https://oapi.dingtalk.com", "DingTalk API base")
	flag.Parse()
	resp, err := http.Get(*docURL)
	if err != nil {
		log.Fatal(err)
	}
	var d document
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	robots, mobiles, index := map[int64]robot{}, map[int64]string{}, map[string]*target{}
	for _, r := range d.Robots {
		robots[r.ID] = r
	}
	for _, o := range d.Owners {
		mobiles[o.ID] = o.Mobile
	}
	for _, p := range d.Projects {
		t := &target{}
		for _, id := range p.RobotIDs {
			t.robots = append(t.robots, robots[id])
		}
		for _, id := range p.OwnerIDs {
			t.mobiles = append(t.mobiles, mobiles[id])
		}
		index[p.Slug] = t
	}
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost { // the deploy check, FC's /initialize
			w.Write([]byte(`{"status":"ok"}`))
			return
		}
		var hook struct {
			ProjectSlug         string `json:"project_slug"`
			URL, Culprit, Level string
		}
		if r.URL.Query().Get("token") != d.WebhookToken || json.NewDecoder(r.Body).Decode(&hook) != nil || index[hook.ProjectSlug] == nil {
			http.Error(w, `{"status":"error"}`, http.StatusBadRequest)
			return
		}
		t := index[hook.ProjectSlug]
		at := "@" + strings.Join(t.mobiles, " @")
		for _, rb := range t.robots {
			text := fmt.Sprintf("### %s %s\n\n%s\n\n[%s](%s)", hook.Level, hook.Culprit, at, rb.Keyword, hook.URL)
			body, _ := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": hook.Culprit, "text": text},
				"at": map[string]any{"atMobiles": t.mobiles}})
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			mac := hmac.New(sha256.New, []byte(rb.Secret))
			mac.Write([]byte(ts + "\n" + rb.Secret))
			sign := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
			resp, err := http.Post(*api+"/robot/send?access_token="+rb.AccessToken+"&timestamp="+ts+"&sign="+sign, "application/json", bytes.NewReader(body))
			var answer struct{ Errcode int }
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&answer)
				resp.Body.Close()
			}
			if err != nil || answer.Errcode != 0 {
				http.Error(w, `{"status":"failed"}`, http.StatusBadGateway)
				return
			}
		}
		w.Write([]byte(`{"status":"delivered"}`))
	})))
}
