package dispatch

import (
	"slices"
	"time"
)

// restore opens the spool and takes up what the last run of this store
// left there: its robots' budgets, then its jobs, requeued.
func (d *Dispatcher) restore() error {
	sp, jobs, budgets, crashed, err := openSpool(d.o.Spool, d.o.Store)
	if err != nil {
		return err
	}
	d.spool = sp
	for _, f := range sp.foreign {
		store := f.Store
		if store == "" {
			store = "not named (spooled by an older version)"
		}
		d.log.Warn("the spool folder holds alerts of another store; this relay leaves them alone (a relay on that store sends them)",
			"folder", f.Folder, "store", store, "alerts", f.Alerts)
	}
	if err := sp.Err(); err != nil {
		d.log.Error("spool unusable: alerts that must wait for a robot cannot be saved and are refused (503) until it is fixed",
			"spool", d.o.Spool, "error", err.Error())
	}
	d.restoreBudgets(budgets, jobs, crashed)
	// Saved at once, unmarked as complete: should this run crash, the
	// next start knows it, whatever was sent or spooled meanwhile.
	d.saveBudgets(false)
	for _, j := range jobs {
		if j.Sending {
			// Under way when the last run stopped: the robot may have
			// it. Sent again (at least once), saying so.
			j.Sending, j.PossibleRepeat = false, true
		}
		_ = d.enqueue(&task{job: j, spooled: true}, false)
	}
	if len(jobs) > 0 {
		d.log.Info("requeued spooled alerts", "count", len(jobs))
	}
	return nil
}

// restoreBudgets takes the robots' sends and blocks from before a restart.
// A robot with spooled alerts but no saved sends (a crash before they
// were saved) is taken to have spent its budget: its alerts wait one
// window rather than risk the vendor's block (DingTalk: 10 minutes).
// After a crash (budgets saved, but not at a Close) the last sends may be
// missing from what was saved: every robot is taken to have spent its
// budget at the start, for one window.
func (d *Dispatcher) restoreBudgets(saved map[int64]savedBudget, jobs []*Job, crashed bool) {
	now := d.clock.Now()
	for id, b := range saved {
		st := &robotState{id: id, kind: b.Kind, budget: budget{sent: b.Sent, blockedUntil: b.BlockedUntil}}
		d.robots[id] = st
	}
	if crashed {
		d.spentAt = now
		for _, st := range d.robots {
			d.spend(st, now)
		}
		d.log.Warn("the last run did not stop cleanly: robots send again once a rate window has passed")
	}
	for _, j := range jobs {
		if _, ok := d.robots[j.RobotID]; !ok {
			st := &robotState{id: j.RobotID, kind: j.Kind}
			d.robots[j.RobotID] = st
			d.spend(st, now)
		}
	}
}

// spend takes st's whole budget at at, for each limit whose window has
// not passed since. Call with d.mu held (or before the dispatcher runs).
func (d *Dispatcher) spend(st *robotState, at time.Time) {
	st.budget.spendAll(at, d.clock.Now(), d.limits(st.kind).Limits)
}

// saveBudgets writes the robots' budgets to the spool; clean marks them
// complete (Close). It runs at the start (so that the next start knows
// whether this run crashed), when a robot is blocked, and at Close: after a
// crash every robot is taken to have spent its budget anyway, so a send
// needs no save of its own. A failed save is logged, shown by Health and
// tried again until it succeeds.
func (d *Dispatcher) saveBudgets(clean bool) {
	if d.spool == nil {
		return
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	d.mu.Lock()
	now := d.clock.Now()
	out := make(map[int64]savedBudget, len(d.robots))
	for id, st := range d.robots {
		if b := &st.budget; len(b.sent) > 0 || b.blockedUntil.After(now) {
			out[id] = savedBudget{Kind: st.kind, Sent: slices.Clone(b.sent), BlockedUntil: b.blockedUntil}
		}
	}
	d.mu.Unlock()
	err := d.spool.saveBudgets(out, clean)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		if d.saveFailing {
			d.log.Info("robot budgets saved to the spool again")
		}
		d.saveFailing, d.saveErr = false, nil
		return
	}
	if !d.saveFailing {
		d.log.Error("robot budgets not saved to the spool; trying again every 5 s", "error", err.Error())
	}
	d.saveFailing, d.saveErr = true, err
	if d.saveRetry == nil && !d.closed {
		d.saveRetry = d.clock.AfterFunc(5*time.Second, func() {
			d.mu.Lock()
			d.saveRetry = nil
			d.mu.Unlock()
			d.saveBudgets(false)
		})
	}
}
