package robottest

import (
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
)

// The adapters below give each stand-in the shape the conformance suite
// (internal/notify/notifytest) drives: a known robot, faults, and the text
// of the messages accepted.

// Tokens and secrets of the robots the adapters' stand-ins know.
const (
	vendorToken  = "conformance-token-0001"
	vendorSigned = "conformance-token-0002"
	vendorKW     = "conformance-token-0003"
	vendorSecret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
)

func vendorRobot(kind string, signed bool) *config.Robot {
	r := &config.Robot{ID: 1, Name: "conformance", Kind: kind, AccessToken: vendorToken, Keyword: "详情"}
	if signed {
		r.AccessToken, r.Secret = vendorSigned, vendorSecret
	}
	return r
}

func fault(hang bool) Fault {
	if hang {
		return FaultTimeout
	}
	return Fault500
}

// DingTalkVendor is the DingTalk stand-in as a conformance vendor.
type DingTalkVendor struct{ *DingTalk }

// NewDingTalkVendor starts a DingTalk stand-in with a keyword robot and a
// signed one.
func NewDingTalkVendor() DingTalkVendor {
	return DingTalkVendor{NewDingTalk(
		DingTalkRobot{Token: vendorToken, Keywords: []string{"详情"}},
		DingTalkRobot{Token: vendorSigned, Secret: vendorSecret, Keywords: []string{"详情"}})}
}

func (v DingTalkVendor) Robot(signed bool) *config.Robot { return vendorRobot("dingtalk", signed) }
func (v DingTalkVendor) FailNext(hang bool)              { v.DingTalk.FailNext(fault(hang)) }
func (v DingTalkVendor) Accepted() []string {
	var out []string
	for _, m := range v.Messages() {
		out = append(out, m.Title+"\n"+m.Text)
	}
	return out
}

// KeywordRobot registers a keyword robot whose keyword is kw.
func (v DingTalkVendor) KeywordRobot(kw string) *config.Robot {
	v.AddRobot(DingTalkRobot{Token: vendorKW, Keywords: []string{kw}})
	r := vendorRobot("dingtalk", false)
	r.AccessToken, r.Keyword = vendorKW, kw
	return r
}

// Received gives each message's markdown title and text.
func (v DingTalkVendor) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, m := range v.Messages() {
		out = append(out, notifytest.Received{Title: m.Title, Text: m.Text})
	}
	return out
}

// WeComVendor is the WeCom stand-in as a conformance vendor (WeCom has no
// signing).
type WeComVendor struct{ *WeCom }

// NewWeComVendor starts a WeCom stand-in knowing one key.
func NewWeComVendor() WeComVendor { return WeComVendor{NewWeCom(vendorToken)} }

func (v WeComVendor) Robot(bool) *config.Robot { return vendorRobot("wecom", false) }
func (v WeComVendor) FailNext(hang bool)       { v.WeCom.FailNext(fault(hang)) }

// Accepted lists the alerts (markdown messages), not the short text
// messages that mention by mobile.
func (v WeComVendor) Accepted() []string {
	var out []string
	for _, m := range v.Messages() {
		if m.MsgType != "text" {
			out = append(out, m.Content)
		}
	}
	return out
}

// KeywordRobot returns a robot configured with kw (WeCom checks no
// keyword).
func (v WeComVendor) KeywordRobot(kw string) *config.Robot {
	r := vendorRobot("wecom", false)
	r.Keyword = kw
	return r
}

// Received gives each alert's markdown content as its text; WeCom
// messages have no title.
func (v WeComVendor) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, a := range v.Accepted() {
		out = append(out, notifytest.Received{Text: a})
	}
	return out
}

// FeishuVendor is the Feishu stand-in as a conformance vendor.
type FeishuVendor struct{ *Feishu }

// NewFeishuVendor starts a Feishu stand-in with a keyword bot and a signed
// one.
func NewFeishuVendor() FeishuVendor {
	return FeishuVendor{NewFeishu(
		FeishuRobot{Token: vendorToken, Keywords: []string{"详情"}},
		FeishuRobot{Token: vendorSigned, Secret: vendorSecret, Keywords: []string{"详情"}})}
}

func (v FeishuVendor) Robot(signed bool) *config.Robot { return vendorRobot("feishu", signed) }
func (v FeishuVendor) FailNext(hang bool)              { v.Feishu.FailNext(fault(hang)) }
func (v FeishuVendor) Accepted() []string {
	var out []string
	for _, m := range v.Messages() {
		out = append(out, m.Title+"\n"+strings.Join(m.Texts, "\n"))
	}
	return out
}

// KeywordRobot registers a keyword bot whose keyword is kw.
func (v FeishuVendor) KeywordRobot(kw string) *config.Robot {
	v.AddRobot(FeishuRobot{Token: vendorKW, Keywords: []string{kw}})
	r := vendorRobot("feishu", false)
	r.AccessToken, r.Keyword = vendorKW, kw
	return r
}

// Received gives each card's header title, and its text values as the
// text.
func (v FeishuVendor) Received() []notifytest.Received {
	var out []notifytest.Received
	for _, m := range v.Messages() {
		out = append(out, notifytest.Received{Title: m.Title, Text: strings.Join(m.Bodies, "\n")})
	}
	return out
}
