package store

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// compileCases build queries against the test schema; each one's SQL and arguments are compared
// with testdata/compile/<name>.golden.
func compileCases(t *testing.T, sch *model.Schema) map[string]*model.Query {
	acc, _ := sch.Entity("account")
	con, _ := sch.Entity("contact")
	task, _ := sch.Entity("task")
	attr := func(e *model.Entity, n string) *model.Attribute {
		a, ok := e.Attribute(n)
		if !ok {
			t.Fatalf("no %s.%s", e.LogicalName, n)
		}
		return a
	}
	col := func(e *model.Entity, n string) *model.Column { return &model.Column{Attr: attr(e, n)} }
	pc, _ := acc.Nav("primarycontactid")
	tasksNav, _ := acc.Nav("Account_Tasks")
	leadsNav, _ := acc.Nav("accountleads_association")
	rev := mustParse(t, "1000", 4)
	link := &model.Link{Alias: "pc", Entity: con, From: "contactid", To: "primarycontactid", Outer: true, Columns: []*model.Attribute{attr(con, "fullname")}}
	return map[string]*model.Query{
		"select_columns": {Entity: acc, Columns: []*model.Attribute{attr(acc, "name"), attr(acc, "ownerid")}},
		"filter_and_or": {Entity: acc, Columns: []*model.Attribute{attr(acc, "name")}, Filter: model.And{Terms: []model.Expr{
			model.Compare{Left: col(acc, "name"), Op: model.Eq, Value: "Contoso"},
			model.Or{Terms: []model.Expr{model.Compare{Left: col(acc, "revenue"), Op: model.Gt, Value: rev}, model.Null{Column: col(acc, "revenue")}}},
			model.Not{X: model.Match{Column: col(acc, "name"), Kind: "startswith", Pattern: "A"}},
		}}},
		"null_semantics": {Entity: acc, Columns: []*model.Attribute{}, Filter: model.Or{Terms: []model.Expr{
			model.Compare{Left: col(acc, "name"), Op: model.Eq, Value: nil},
			model.Compare{Left: col(acc, "name"), Op: model.Ne, Value: nil},
		}}},
		"lookup_path": {Entity: acc, Columns: []*model.Attribute{attr(acc, "name")}, Filter: model.Compare{Left: &model.Column{Path: []*model.Nav{pc}, Attr: attr(con, "fullname")}, Op: model.Eq, Value: "Yvonne"},
			Order: []model.Order{{Column: &model.Column{Path: []*model.Nav{pc}, Attr: attr(con, "fullname")}, Desc: true}}},
		"column_compare": {Entity: acc, Columns: []*model.Attribute{}, Filter: model.Compare{Left: col(acc, "name"), Op: model.Eq, Right: col(acc, "accountnumber")}},
		"in_and_contain_values": {Entity: acc, Columns: []*model.Attribute{}, Filter: model.And{Terms: []model.Expr{
			model.In{Column: col(acc, "numberofemployees"), Values: []any{int64(1), int64(2)}},
			model.ContainValues{Column: col(acc, "tags"), Values: []int64{1, 2}, Negate: true},
			model.Match{Column: col(acc, "name"), Kind: "contains", Pattern: "[ab]c"},
		}}},
		"any_all_nn": {Entity: acc, Columns: []*model.Attribute{}, Filter: model.And{Terms: []model.Expr{
			model.Exists{Nav: tasksNav, Filter: model.Compare{Left: col(task, "subject"), Op: model.Eq, Value: "call"}},
			model.Exists{Nav: tasksNav, All: true, Filter: model.Match{Column: col(task, "subject"), Kind: "startswith", Pattern: "c"}},
			model.Exists{Nav: leadsNav},
		}}},
		"page_after": {Entity: acc, Columns: []*model.Attribute{attr(acc, "name")}, Order: []model.Order{{Column: col(acc, "name")}, {Column: col(acc, "revenue"), Desc: true}},
			PageSize: 7, After: &model.Position{Values: []any{"Contoso", nil}, ID: "00000000-0000-4000-8000-000000000001", Page: 1}},
		"link_entity": {Entity: acc, Columns: []*model.Attribute{attr(acc, "name")}, Links: []*model.Link{link}, Filter: model.Compare{Left: &model.Column{Link: link, Attr: attr(con, "fullname")}, Op: model.Ne, Value: "x"}, Top: 5},
		"aggregate": {Entity: acc, GroupBy: []model.GroupBy{{Column: col(acc, "creditonhold"), Alias: "hold"}, {Column: col(acc, "createdon"), Alias: "yr", DatePart: "year"}},
			Aggregates: []model.Aggregate{{Func: model.AggCount, Alias: "n"}, {Func: model.AggSum, Column: col(acc, "revenue"), Alias: "total"}}, Order: []model.Order{{Alias: "total", Desc: true}}},
	}
}

func mustParse(t *testing.T, s string, scale int) model.Decimal {
	d, err := model.ParseDecimal(s, scale)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCompileGolden(t *testing.T) {
	s := openTest(t, "")
	for name, q := range compileCases(t, s.Schema()) {
		t.Run(name, func(t *testing.T) {
			sql, args, err := Compile(q)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(sql + "\n")
			for i, a := range args {
				fmt.Fprintf(&b, "$%d = %#v\n", i+1, a)
			}
			path := filepath.Join("testdata", "compile", name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("SQL for %s:\n got: %s\nwant: %s", name, b.String(), want)
			}
			// Every golden query must also run.
			if err := s.Read(context.Background(), func(tx *Tx) error { _, err := tx.Select(q); return err }); err != nil {
				t.Errorf("running %s: %v", name, err)
			}
		})
	}
}

func TestDvLike(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, v string
		want bool
	}{
		{"%con%", "Contoso", true},
		{"c_n%", "CONTOSO", true},
		{"[ab]c", "bc", true},
		{"[ab]c", "cc", false},
		{"[^ab]c", "cc", true},
		{"[a-c]x", "bx", true},
		{"[%]", "%", true},
		{"a[", "a[", true},
		{"%", "", true},
		{"_", "", false},
		{"%é%", "CAFÉ", true},
	}
	for _, tt := range tests {
		if got := dvLike(tt.p, tt.v); got != tt.want {
			t.Errorf("dvLike(%q, %q) = %v", tt.p, tt.v, got)
		}
	}
	if dvLike("%", nil) {
		t.Error("NULL matched")
	}
}

// TestKeysetPagingWhileRowsChange pages through 10,000 rows seven at a time while rows are added
// and removed between pages: every row that exists from start to end is seen exactly once.
func TestKeysetPagingWhileRowsChange(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "db.sqlite"))
	ctx := context.Background()
	acc, _ := s.Schema().Entity("account")
	nameAttr, _ := acc.Attribute("name")
	revAttr, _ := acc.Attribute("revenue")
	rng := rand.New(rand.NewSource(1))
	const total = 10000
	ids := make([]string, 0, total)
	err := s.Write(ctx, func(tx *Tx) error {
		for i := 0; i < total; i++ {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			ids = append(ids, id)
			row := model.Row{"accountid": id, "name": fmt.Sprintf("n%03d", rng.Intn(300))}
			if i%5 != 0 {
				row["revenue"] = model.Decimal{Unscaled: int64(rng.Intn(50)) * 10000, Scale: 4}
			}
			if _, err := tx.Insert(acc, row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]bool{}
	seen := map[string]int{}
	q := &model.Query{Entity: acc, Columns: []*model.Attribute{nameAttr}, PageSize: 7,
		Order: []model.Order{{Column: &model.Column{Attr: revAttr}, Desc: true}, {Column: &model.Column{Attr: nameAttr}}}}
	next := 0
	for pages := 0; ; pages++ {
		var res *Result
		if err := s.Read(ctx, func(tx *Tx) error { var err error; res, err = tx.Select(q); return err }); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			seen[r.ID]++
		}
		if !res.More {
			break
		}
		q.After = res.Next
		// Change the table between pages: delete a random existing row, insert a new one.
		err = s.Write(ctx, func(tx *Tx) error {
			victim := ids[rng.Intn(len(ids))]
			if !deleted[victim] {
				if err := tx.Delete(acc, victim); err != nil {
					return err
				}
				deleted[victim] = true
			}
			id := fmt.Sprintf("00000000-0000-4000-9000-%012d", next)
			next++
			_, err := tx.Insert(acc, model.Row{"accountid": id, "name": fmt.Sprintf("n%03d", rng.Intn(300))})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if pages > 5000 {
			t.Fatal("paging does not end")
		}
	}
	for _, id := range ids {
		if deleted[id] {
			continue
		}
		if seen[id] != 1 {
			t.Fatalf("row %s seen %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("row %s seen %d times", id, n)
		}
	}
}

// TestPagingWithTopLevelOr pages a query whose filter is an OR: the keyset condition must apply to
// the whole filter, not to its last term.
func TestPagingWithTopLevelOr(t *testing.T) {
	t.Parallel()
	s := openTest(t, "")
	ctx := context.Background()
	acc, _ := s.Schema().Entity("account")
	name, _ := acc.Attribute("name")
	s.Write(ctx, func(tx *Tx) error {
		for i := 1; i <= 5; i++ {
			if _, err := tx.Insert(acc, model.Row{"accountid": fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i), "name": fmt.Sprintf("or %d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	q := &model.Query{Entity: acc, Columns: []*model.Attribute{name}, PageSize: 2, Order: []model.Order{{Column: &model.Column{Attr: name}}},
		Filter: model.Or{Terms: []model.Expr{model.Match{Column: &model.Column{Attr: name}, Kind: "startswith", Pattern: "or"}, model.Compare{Left: &model.Column{Attr: name}, Op: model.Eq, Value: "zzz"}}}}
	var got []string
	for i := 0; i < 10; i++ {
		var res *Result
		if err := s.Read(ctx, func(tx *Tx) error { var err error; res, err = tx.Select(q); return err }); err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			got = append(got, r.Row["name"].(string))
		}
		if !res.More {
			break
		}
		q.After = res.Next
	}
	if strings.Join(got, ",") != "or 1,or 2,or 3,or 4,or 5" {
		t.Errorf("pages = %v", got)
	}
}

// TestCachedSelectLists compiles every golden query, and queries whose column lists differ only
// inside, through one list cache: each must compile to the SQL it has without the cache.
func TestCachedSelectLists(t *testing.T) {
	s := openTest(t, "")
	acc, _ := s.Schema().Entity("account")
	attr := func(n string) *model.Attribute {
		a, ok := acc.Attribute(n)
		if !ok {
			t.Fatalf("no account.%s", n)
		}
		return a
	}
	queries := []*model.Query{
		{Entity: acc, Columns: []*model.Attribute{attr("name"), attr("revenue"), attr("ownerid")}},
		{Entity: acc, Columns: []*model.Attribute{attr("name"), attr("accountnumber"), attr("ownerid")}},
		{Entity: acc, Columns: []*model.Attribute{attr("name"), attr("accountnumber"), attr("ownerid")}, Distinct: true},
		{Entity: acc},
	}
	for _, q := range compileCases(t, s.Schema()) {
		queries = append(queries, q)
	}
	var lists listCache
	for round := range 2 {
		for i, q := range queries {
			_, want, err := compile(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := compile(q, &lists)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("round %d, query %d: cached SQL\n%s\nwant\n%s", round, i, got, want)
			}
		}
	}
}
