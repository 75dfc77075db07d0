//go:build cgo

package fetchxml

import (
	"context"
	"html"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// id makes a test row id from a short name ("a1" -> 00000000-0000-0000-0000-0000000000a1).
func id(short string) string {
	return "00000000-0000-0000-0000-" + strings.Repeat("0", 12-len(short)) + short
}

// seededStore holds three accounts, three contacts, three tasks and two leads:
//
//	a1 Alpha: contacts c1 Ann Smith (its primary contact) and c2 Bob Jones; tasks Call, Email; lead l1 (Expo)
//	a2 Beta:  contact c3 Cy Smith; task Call; lead l2 (Other)
//	a3 Gamma: nothing related
func seededStore(t *testing.T) *store.Store {
	t.Helper()
	s := testStore(t)
	err := s.Write(context.Background(), func(tx *store.Tx) error {
		sch := tx.Schema()
		e := func(name string) *model.Entity { x, _ := sch.Entity(name); return x }
		rows := []struct {
			entity string
			row    model.Row
		}{
			{"contact", model.Row{"contactid": id("c1"), "fullname": "Ann Smith", "lastname": "Smith", "parentcustomerid": model.Lookup{ID: id("a1"), Entity: "account"}}},
			{"contact", model.Row{"contactid": id("c2"), "fullname": "Bob Jones", "lastname": "Jones", "parentcustomerid": model.Lookup{ID: id("a1"), Entity: "account"}}},
			{"contact", model.Row{"contactid": id("c3"), "fullname": "Cy Smith", "lastname": "Smith", "parentcustomerid": model.Lookup{ID: id("a2"), Entity: "account"}}},
			{"account", model.Row{"accountid": id("a1"), "name": "Alpha", "numberofemployees": int64(10), "primarycontactid": model.Lookup{ID: id("c1"), Entity: "contact"}}},
			{"account", model.Row{"accountid": id("a2"), "name": "Beta", "numberofemployees": int64(20)}},
			{"account", model.Row{"accountid": id("a3"), "name": "Gamma", "numberofemployees": int64(30)}},
			{"task", model.Row{"activityid": id("t1"), "subject": "Call", "regardingobjectid": model.Lookup{ID: id("a1"), Entity: "account"}}},
			{"task", model.Row{"activityid": id("t2"), "subject": "Email", "regardingobjectid": model.Lookup{ID: id("a1"), Entity: "account"}}},
			{"task", model.Row{"activityid": id("t3"), "subject": "Call", "regardingobjectid": model.Lookup{ID: id("a2"), Entity: "account"}}},
			{"lead", model.Row{"leadid": id("l1"), "fullname": "Lee", "subject": "Expo"}},
			{"lead", model.Row{"leadid": id("l2"), "fullname": "Lou", "subject": "Other"}},
		}
		for _, r := range rows {
			if _, err := tx.Insert(e(r.entity), r.row); err != nil {
				return err
			}
		}
		nn, _ := sch.Relationship("accountleads_association")
		if err := tx.Associate(nn, id("a1"), id("l1"), id("e1")); err != nil {
			return err
		}
		return tx.Associate(nn, id("a2"), id("l2"), id("e2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRun runs queries against seeded rows and checks which root rows come back, in order.
func TestRun(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	tests := []struct {
		name string
		xml  string // inside <entity name='account'>, with <order attribute='name' /> added
		want []string
	}{
		{"any task is a call", `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='any'><filter><condition attribute='subject' operator='eq' value='Call' /></filter></link-entity></filter>`, []string{"a1", "a2"}},
		{"no task", `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='not any' /></filter>`, []string{"a3"}},
		{"all: tasks, none a call", `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='all'><filter><condition attribute='subject' operator='eq' value='Call' /></filter></link-entity></filter>`, nil},
		{"all, inverted: every task a call", `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='all'><filter><condition attribute='subject' operator='ne' value='Call' /></filter></link-entity></filter>`, []string{"a2"}},
		{"not all is any", `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='not all'><filter><condition attribute='subject' operator='eq' value='Email' /></filter></link-entity></filter>`, []string{"a1"}},
		{"exists contact named Smith", `<link-entity name='contact' from='parentcustomerid' to='accountid' link-type='exists'><filter><condition attribute='lastname' operator='eq' value='Smith' /></filter></link-entity>`, []string{"a1", "a2"}},
		{"inner join repeats the account", `<link-entity name='contact' from='parentcustomerid' to='accountid' alias='c'><attribute name='fullname' /></link-entity>`, []string{"a1", "a1", "a2"}},
		{"outer join keeps every account", `<link-entity name='contact' from='contactid' to='primarycontactid' link-type='outer' alias='pc'><attribute name='fullname' /></link-entity>`, []string{"a1", "a2", "a3"}},
		{"outer join, null after the join", `<link-entity name='contact' from='contactid' to='primarycontactid' link-type='outer' alias='pc' /><filter><condition entityname='pc' attribute='contactid' operator='null' /></filter>`, []string{"a2", "a3"}},
		{"many-to-many join", `<link-entity name='accountleads' from='accountid' to='accountid' intersect='true'><link-entity name='lead' from='leadid' to='leadid' alias='l'><attribute name='subject' /><filter><condition attribute='subject' operator='eq' value='Expo' /></filter></link-entity></link-entity>`, []string{"a1"}},
		{"many-to-many any", `<filter><link-entity name='accountleads' from='accountid' to='accountid' link-type='any'><link-entity name='lead' from='leadid' to='leadid'><filter><condition attribute='subject' operator='eq' value='Other' /></filter></link-entity></link-entity></filter>`, []string{"a2"}},
		{"many-to-many not any", `<filter><link-entity name='accountleads' from='accountid' to='accountid' link-type='not any' /></filter>`, []string{"a3"}},
		{"nested any", `<filter><link-entity name='contact' from='parentcustomerid' to='accountid' link-type='any'><filter><condition attribute='lastname' operator='eq' value='Jones' /></filter></link-entity></filter>`, []string{"a1"}},
		{"column comparison across a join", `<link-entity name='contact' from='contactid' to='primarycontactid' alias='pc' /><filter><condition attribute='name' operator='ne' valueof='pc.fullname' /></filter>`, []string{"a1"}},
		{"between", `<filter><condition attribute='numberofemployees' operator='between'><value>15</value><value>30</value></condition></filter>`, []string{"a2", "a3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(s.Schema(), "<fetch><entity name='account'><attribute name='name' /><order attribute='name' />"+tt.xml+"</entity></fetch>", testEnv)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			err = s.Read(context.Background(), func(tx *store.Tx) error {
				res, err := tx.Select(f.Query)
				if err != nil {
					return err
				}
				for _, r := range res.Rows {
					got = append(got, strings.TrimLeft(r.ID[24:], "0"))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCookieWalk pages through the accounts one at a time with the cookie each page returns, as
// dynamics-web-api's fetchAll does, and by page number alone.
func TestCookieWalk(t *testing.T) {
	t.Parallel()
	s := seededStore(t)
	const query = `<fetch count='1' page='%d'%s><entity name='account'><attribute name='name' /><order attribute='numberofemployees' descending='true' /></entity></fetch>`
	walk := func(withCookie bool) []string {
		var names []string
		cookie := ""
		for page := 1; page <= 10; page++ {
			attr := ""
			if withCookie && cookie != "" {
				attr = " paging-cookie='" + html.EscapeString(cookie) + "'"
			}
			x := strings.Replace(strings.Replace(query, "%d", strconv.Itoa(page), 1), "%s", attr, 1)
			f, err := Parse(s.Schema(), x, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if withCookie && page > 1 && f.Query.After == nil {
				t.Fatalf("page %d: cookie %s not used", page, cookie)
			}
			var res *store.Result
			if err := s.Read(context.Background(), func(tx *store.Tx) (err error) { res, err = tx.Select(f.Query); return err }); err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Rows {
				names = append(names, r.Row["name"].(string))
			}
			if !res.More {
				return names
			}
			cookie = model.EncodePosition(f.Query, res.Next, res.Rows[0].ID)
		}
		t.Fatal("paging did not end")
		return nil
	}
	want := []string{"Gamma", "Beta", "Alpha"}
	for _, withCookie := range []bool{true, false} {
		if got := walk(withCookie); !slices.Equal(got, want) {
			t.Errorf("cookie %v: pages hold %v, want %v", withCookie, got, want)
		}
	}
}
