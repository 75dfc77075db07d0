package odata

import (
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// This file holds the syntax of the expression-valued query options: a recursive-descent parser
// from tokens to a small AST. Names are resolved afterwards, by the binder (filter.go), so that,
// as in ODL, a syntax error anywhere in the text is reported before any name or type error.
//
// Grammar (precedence from loosest to tightest: or, and, comparison, not):
//
//	expr       = and { "or" and }
//	and        = comparison { "and" comparison }
//	comparison = unary { ("eq"|"ne"|"gt"|"ge"|"lt"|"le") unary }
//	unary      = "not" unary | primary
//	primary    = "(" expr ")" | literal | alias | list | call | queryfn | path
//	call       = name "(" [ expr { "," expr } ] ")"
//	queryfn    = "Microsoft.Dynamics.CRM." name "(" [ param { "," param } ] ")"
//	param      = name "=" ( literal | alias | list )
//	path       = name { "/" name } [ "/" ("any"|"all") "(" [ name ":" expr ] ")" ]

// node is a node of the AST.
type node interface{ pos() int }

// binaryNode is a logical (and, or) or comparison operator.
type binaryNode struct {
	op          token
	left, right node
}

// notNode is the not operator.
type notNode struct {
	op token
	x  node
}

// literalNode is a literal, a parameter alias or a JSON-style list.
type literalNode struct{ tok token }

// pathNode is a property path, optionally ending in a lambda operator.
type pathNode struct {
	segs   []token
	lambda *lambdaNode
}

// lambdaNode is any(...) or all(...) after a path.
type lambdaNode struct {
	kw       token
	rangeVar token // kind tEOF for any()
	body     node  // nil for any()
}

// callNode is an OData function call such as contains(name,'x').
type callNode struct {
	name token
	args []node
}

// fnNode is a Dataverse query function call.
type fnNode struct {
	name   token
	params []param
}

type param struct{ name, value token }

func (n *binaryNode) pos() int  { return n.left.pos() }
func (n *notNode) pos() int     { return n.op.pos }
func (n *literalNode) pos() int { return n.tok.pos }
func (n *pathNode) pos() int    { return n.segs[0].pos }
func (n *callNode) pos() int    { return n.name.pos }
func (n *fnNode) pos() int      { return n.name.pos }

// parser turns the tokens of one query option into AST nodes.
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func newParser(text string) (*parser, *dverr.Error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	return &parser{src: text, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) at(k tokKind) bool { return p.toks[p.i].kind == k }

func (p *parser) atWord(w string) bool {
	t := p.toks[p.i]
	return t.kind == tIdent && t.text == w
}

func (p *parser) errSyntax(pos int) *dverr.Error {
	return dverr.BadRequest("Syntax error at position %d in '%s'.", pos, p.src).At(pos)
}

func (p *parser) errExpected(pos int) *dverr.Error {
	return dverr.BadRequest("Expression expected at position %d in '%s'.", pos, p.src).At(pos)
}

func (p *parser) errCloseParen(pos int) *dverr.Error {
	return dverr.BadRequest("')' or operator expected at position %d in '%s'.", pos, p.src).At(pos)
}

func (p *parser) errCloseArgs(pos int) *dverr.Error {
	return dverr.BadRequest("')' or ',' expected at position %d in '%s'.", pos, p.src).At(pos)
}

// errUnexpected is a syntax error at t: "expression expected" at the end of the text.
func (p *parser) errUnexpected(t token) *dverr.Error {
	if t.kind == tEOF {
		return p.errExpected(t.pos)
	}
	return p.errSyntax(t.pos)
}

// maxDepth bounds nesting (parentheses, not, calls, lambdas), as ODL's recursion limit does.
const maxDepth = 800

func (p *parser) enter(pos int) *dverr.Error {
	p.depth++
	if p.depth > maxDepth {
		return dverr.BadRequest("The recursion limit has been exceeded.").At(pos)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// expectEOF reports text left after a complete expression.
func (p *parser) expectEOF() *dverr.Error {
	if t := p.peek(); t.kind != tEOF {
		return p.errSyntax(t.pos)
	}
	return nil
}

// compareKinds names the comparison operators as ODL does in its messages.
var compareKinds = map[string]string{
	"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual", "lt": "LessThan", "le": "LessThanOrEqual",
}

// unsupportedOps are OData operators Dataverse does not accept.
var unsupportedOps = map[string]bool{"has": true, "in": true, "add": true, "sub": true, "mul": true, "div": true, "divby": true, "mod": true}

func (p *parser) expr() (node, *dverr.Error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.atWord("or") {
		op := p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = &binaryNode{op: op, left: left, right: right}
	}
	return left, nil
}

func (p *parser) and() (node, *dverr.Error) {
	left, err := p.comparison()
	if err != nil {
		return nil, err
	}
	for p.atWord("and") {
		op := p.next()
		right, err := p.comparison()
		if err != nil {
			return nil, err
		}
		left = &binaryNode{op: op, left: left, right: right}
	}
	return left, nil
}

func (p *parser) comparison() (node, *dverr.Error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tIdent {
			return left, nil
		}
		if _, ok := compareKinds[t.text]; !ok {
			if unsupportedOps[t.text] {
				return nil, dverr.BadRequest("The operator '%s' is not supported.", t.text).At(t.pos)
			}
			return left, nil
		}
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = &binaryNode{op: t, left: left, right: right}
	}
}

// unary parses not, which binds tighter than the comparison operators: in "not name eq 'x'" it
// applies to name alone, as in ODL.
func (p *parser) unary() (node, *dverr.Error) {
	if !p.atWord("not") {
		return p.primary()
	}
	op := p.next()
	if err := p.enter(op.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &notNode{op: op, x: x}, nil
}

func (p *parser) primary() (node, *dverr.Error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.at(tRParen) {
			return nil, p.errCloseParen(p.peek().pos)
		}
		p.next()
		return x, nil
	case tString, tNumber, tGUID, tDate, tDateTime, tTyped, tAlias, tArray:
		p.next()
		return &literalNode{tok: t}, nil
	case tIdent:
		switch {
		case isNull(t) || isBoolLit(t):
			p.next()
			return &literalNode{tok: t}, nil
		case p.peekAt(1).kind == tLParen && strings.HasPrefix(t.text, crmNamespace):
			return p.queryFunction()
		case p.peekAt(1).kind == tLParen:
			return p.call()
		}
		return p.path()
	}
	return nil, p.errUnexpected(t)
}

// call parses name(arg, ...).
func (p *parser) call() (node, *dverr.Error) {
	n := &callNode{name: p.next()}
	p.next() // (
	if err := p.enter(n.name.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.at(tRParen) {
		p.next()
		return n, nil
	}
	for {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, a)
		switch t := p.next(); t.kind {
		case tComma:
		case tRParen:
			return n, nil
		default:
			return nil, p.errCloseArgs(t.pos)
		}
	}
}

// queryFunction parses Microsoft.Dynamics.CRM.Name(Param=value, ...).
func (p *parser) queryFunction() (node, *dverr.Error) {
	n := &fnNode{name: p.next()}
	p.next() // (
	if p.at(tRParen) {
		p.next()
		return n, nil
	}
	for {
		name := p.next()
		if name.kind != tIdent || strings.ContainsAny(name.text, ".$") {
			return nil, p.errUnexpected(name)
		}
		if !p.at(tEquals) {
			return nil, p.errSyntax(p.peek().pos)
		}
		p.next()
		v := p.next()
		switch {
		case v.kind == tString, v.kind == tNumber, v.kind == tGUID, v.kind == tDate, v.kind == tDateTime,
			v.kind == tTyped, v.kind == tArray, v.kind == tAlias, isNull(v), isBoolLit(v):
		default:
			return nil, p.errUnexpected(v)
		}
		n.params = append(n.params, param{name: name, value: v})
		switch t := p.next(); t.kind {
		case tComma:
		case tRParen:
			return n, nil
		default:
			return nil, p.errCloseArgs(t.pos)
		}
	}
}

// path parses name{/name}, ending in an optional lambda operator.
func (p *parser) path() (node, *dverr.Error) {
	n := &pathNode{segs: []token{p.next()}}
	for p.at(tSlash) {
		p.next()
		t := p.peek()
		if t.kind != tIdent {
			return nil, p.errUnexpected(t)
		}
		if (t.text == "any" || t.text == "all") && p.peekAt(1).kind == tLParen {
			l, err := p.lambda()
			if err != nil {
				return nil, err
			}
			n.lambda = l
			return n, nil
		}
		n.segs = append(n.segs, p.next())
	}
	return n, nil
}

// lambda parses any(...) or all(...).
func (p *parser) lambda() (*lambdaNode, *dverr.Error) {
	l := &lambdaNode{kw: p.next()}
	p.next() // (
	if p.at(tRParen) {
		p.next()
		return l, nil
	}
	v := p.next()
	if v.kind != tIdent || strings.ContainsAny(v.text, ".$") {
		return nil, p.errUnexpected(v)
	}
	if !p.at(tColon) {
		return nil, p.errSyntax(p.peek().pos)
	}
	p.next()
	if err := p.enter(l.kw.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	body, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.at(tRParen) {
		return nil, p.errCloseParen(p.peek().pos)
	}
	p.next()
	l.rangeVar, l.body = v, body
	return l, nil
}
