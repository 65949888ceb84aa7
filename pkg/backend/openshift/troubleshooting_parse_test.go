package openshift

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
)

// This file finds messages in Go source for troubleshooting_test.go.

// hole stands for a variable part of a message: a verb of a format, or a
// non-constant operand of a concatenation.
const hole = "\x00"

// msgExpr is a message's text with its variable parts as holes.
type msgExpr struct {
	template string
	pos      token.Pos
}

// messageExprs finds the messages of one function (see the rules at the
// top of troubleshooting_test.go).
func messageExprs(fn *ast.FuncDecl) []msgExpr {
	var out []msgExpr
	add := func(e ast.Expr, format bool) {
		if tmpl, ok := literalTemplate(e); ok {
			if format {
				tmpl = formatTemplate(tmpl)
			}
			out = append(out, msgExpr{template: tmpl, pos: e.Pos()})
		}
	}
	isErrorMethod := fn.Recv != nil && fn.Name.Name == "Error"
	// Variables errors.New takes: the Sprintf assigned to them is a message.
	newArgs := map[string]bool{}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && isCall(call, "errors", "New") && len(call.Args) == 1 {
			if id, ok := call.Args[0].(*ast.Ident); ok {
				newArgs[id.Name] = true
			}
		}
		return true
	})
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch {
			case isCall(n, "fmt", "Errorf") && len(n.Args) > 0:
				add(n.Args[0], true)
			case isCall(n, "errors", "New") && len(n.Args) == 1:
				add(n.Args[0], false)
			case (isCall(n, "fmt", "Fprintf") || isCall(n, "fmt", "Fprintln")) && len(n.Args) > 1:
				addDiagnostic(n.Args[1], isCall(n, "fmt", "Fprintf"), add)
			case isMethodCall(n, "progressf") && len(n.Args) > 0:
				addDiagnostic(n.Args[0], true, add)
			}
		case *ast.CompositeLit:
			if typeName(n.Type) != "" && strings.HasSuffix(typeName(n.Type), "Error") {
				for _, elt := range n.Elts {
					kv, ok := elt.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					if key, ok := kv.Key.(*ast.Ident); ok && (key.Name == "Reason" || key.Name == "Why") {
						addValue(kv.Value, add)
					}
				}
			}
		case *ast.AssignStmt:
			// msg := fmt.Sprintf(...) in an Error() method or before
			// errors.New(msg); "+=" only continues a message.
			if n.Tok != token.DEFINE && n.Tok != token.ASSIGN {
				break
			}
			for i, lhs := range n.Lhs {
				id, ok := lhs.(*ast.Ident)
				if ok && i < len(n.Rhs) && (isErrorMethod || newArgs[id.Name]) {
					addSprintf(n.Rhs[i], add)
				}
			}
		case *ast.ReturnStmt:
			if isErrorMethod {
				for _, r := range n.Results {
					addSprintf(r, add)
				}
			}
		}
		return true
	})
	return out
}

// addDiagnostic adds a printed line that starts "Warning:" or "Note:".
func addDiagnostic(e ast.Expr, format bool, add func(ast.Expr, bool)) {
	tmpl, ok := literalTemplate(e)
	if ok && (strings.HasPrefix(tmpl, "Warning:") || strings.HasPrefix(tmpl, "Note:")) {
		add(e, format)
	}
}

// addValue adds a field's value: a constant string or a fmt.Sprintf.
func addValue(e ast.Expr, add func(ast.Expr, bool)) {
	if call, ok := e.(*ast.CallExpr); ok {
		addSprintf(call, add)
		return
	}
	add(e, false)
}

// addSprintf adds the format of a fmt.Sprintf call.
func addSprintf(e ast.Expr, add func(ast.Expr, bool)) {
	if call, ok := e.(*ast.CallExpr); ok && isCall(call, "fmt", "Sprintf") && len(call.Args) > 0 {
		add(call.Args[0], true)
	}
}

// isCall reports whether call is pkg.name(...).
func isCall(call *ast.CallExpr, pkg, name string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// isMethodCall reports whether call is x.name(...) on any x.
func isMethodCall(call *ast.CallExpr, name string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == name
}

// typeName is the name of a composite literal's type ("UnavailableError"
// for backend.UnavailableError), "" for unnamed types.
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.SelectorExpr:
		return t.Sel.Name
	}
	return ""
}

// literalTemplate is the text of a string literal, or of a concatenation
// with a literal first operand; every non-constant operand becomes a hole.
// ok is false when the text does not start with a literal.
func literalTemplate(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return literalTemplate(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		left, ok := literalTemplate(e.X)
		if !ok {
			return "", false
		}
		right, ok := literalTemplate(e.Y)
		if !ok {
			right = hole
		}
		return left + right, true
	}
	return "", false
}

// formatTemplate turns the verbs of a fmt format into holes; "%%" is a
// literal percent sign.
func formatTemplate(format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			b.WriteByte(format[i])
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		// Flags, width, precision and argument indexes, then the verb.
		j := i + 1
		for j < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[j]) >= 0 {
			j++
		}
		b.WriteString(hole)
		i = j // the verb letter
	}
	return b.String()
}

// fixedRuns are a template's runs of fixed text at least minFixedText
// long, whitespace collapsed; none for a wrapper.
func fixedRuns(template string) []string {
	var runs []string
	for _, part := range strings.Split(template, hole) {
		if p := collapse(part); len(p) >= minFixedText {
			runs = append(runs, p)
		}
	}
	return runs
}

// display is a template as the document quotes it: "…" for each
// variable part, whitespace collapsed.
func display(template string) string {
	return collapse(strings.ReplaceAll(template, hole, "…"))
}

// collapse turns every run of whitespace into one space and trims the ends.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
