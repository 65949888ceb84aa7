package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/paude-dev/paude/pkg/backend"
)

// Output formats of `paude sessions -o`.
var sessionFormats = []string{"wide", "json", "yaml"}

// SessionsOptions are `paude sessions`'.
type SessionsOptions struct {
	root *RootOptions
	b    backend.Backend
	now  func() time.Time

	// Output is -o: "" (a table), "wide", "json" or "yaml".
	Output string
	// NoHeaders leaves the table's header line out.
	NoHeaders bool

	cmd     *cobra.Command
	printer printers.ResourcePrinter
}

// NewCmdSessions lists sessions as a table, or as JSON or YAML for scripts.
func NewCmdSessions(root *RootOptions) *cobra.Command {
	o := &SessionsOptions{root: root, now: time.Now}
	cmd := &cobra.Command{
		Use:     "sessions",
		Aliases: []string{"list", "ls"},
		Short:   "List sessions, newest first",
		Long: longDesc(`
			List the backend's sessions, newest first: ID, status (with the reason
			for a pending, stopped or failed one), age and workspace. -o wide adds
			the network mode and the backend; -o json and -o yaml print a
			SessionList for scripts, with id, status, reason, workspace, createdAt,
			backend and network for each session.`),
		Example: templates.Examples(fmt.Sprintf(`
			# Sessions on the default backend
			%[1]s sessions

			# The IDs of the running sessions, for a script
			%[1]s sessions -o json | jq -r '.items[] | select(.status == "running") | .id'`, root.Flavor.DisplayName)),
		Args: noArgs(root),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Complete(c); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: "+strings.Join(sessionFormats, ", ")+" (default: a table)")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "print the table without its header line")
	return cmd
}

// Complete folds the legacy flags in.
func (o *SessionsOptions) Complete(c *cobra.Command) error {
	o.cmd = c
	return o.root.applyLegacyFlags()
}

// Validate checks the output format, then builds the printer and the
// backend.
func (o *SessionsOptions) Validate() error {
	switch o.Output {
	case "json":
		o.printer = &printers.JSONPrinter{}
	case "yaml":
		o.printer = &printers.YAMLPrinter{}
	case "", "wide":
		o.printer = printers.NewTablePrinter(printers.PrintOptions{NoHeaders: o.NoHeaders, Wide: o.Output == "wide"})
	default:
		return &UsageError{
			Msg:     fmt.Sprintf("unknown output format %q: choose one of %s", o.Output, strings.Join(sessionFormats, ", ")),
			Command: displayPath(o.cmd, o.root),
		}
	}
	b, err := o.root.Backend()
	if err != nil {
		return err
	}
	o.b = b
	return nil
}

// Run prints the sessions to Out. With no sessions, the table is empty and
// "No sessions" goes to ErrOut, so that scripts reading Out see nothing;
// JSON and YAML print an empty list.
func (o *SessionsOptions) Run(ctx context.Context) error {
	sessions, err := o.b.ListSessions(ctx)
	if err != nil {
		return err
	}
	out := o.root.Streams.Out
	switch o.Output {
	case "json", "yaml":
		return o.printer.PrintObj(newSessionList(sessions), out)
	}
	if len(sessions) == 0 {
		_, err := fmt.Fprintf(o.root.Streams.ErrOut, "No %s sessions. Start one with '%s'.\n",
			o.b.Type(), o.root.Flavor.DisplayName)
		return err
	}
	return o.printer.PrintObj(sessionTable(sessions, o.now()), out)
}

// sessionTable is the sessions as a table the kubectl printers draw:
// NETWORK and BACKEND only with -o wide.
func sessionTable(sessions []backend.Session, now time.Time) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "ID", Type: "string"},
		{Name: "Status", Type: "string"},
		{Name: "Created", Type: "string"},
		{Name: "Workspace", Type: "string"},
		{Name: "Network", Type: "string", Priority: 1},
		{Name: "Backend", Type: "string", Priority: 1},
	}}
	for _, s := range sessions {
		status := string(s.Status)
		if s.Reason != "" {
			status += " (" + s.Reason + ")"
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{
			s.ID, status, ago(now.Sub(s.CreatedAt)), s.Workspace, orNone(s.Network), string(s.BackendType),
		}})
	}
	return t
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// ago words a duration the way people say it: "5 minutes ago".
func ago(d time.Duration) string {
	unit := func(n int, name string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s ago", name)
		}
		return fmt.Sprintf("%d %ss ago", n, name)
	}
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return unit(int(d/time.Second), "second")
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int(d/time.Hour), "hour")
	default:
		return unit(int(d/(24*time.Hour)), "day")
	}
}

// SessionListVersion is the apiVersion of `sessions -o json|yaml`.
var SessionListVersion = schema.GroupVersion{Group: "paude.io", Version: "v1alpha1"}

// SessionList is what `sessions -o json|yaml` prints: a list object in
// the shape kubectl users know, so jq and yq read it the usual way.
type SessionList struct {
	metav1.TypeMeta `json:",inline"`
	Items           []SessionItem `json:"items"`
}

// SessionItem is one session in a SessionList.
type SessionItem struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	Workspace string    `json:"workspace"`
	CreatedAt time.Time `json:"createdAt"`
	Backend   string    `json:"backend"`
	Network   string    `json:"network"`
}

// newSessionList converts sessions for printing.
func newSessionList(sessions []backend.Session) *SessionList {
	l := &SessionList{Items: make([]SessionItem, 0, len(sessions))}
	l.SetGroupVersionKind(SessionListVersion.WithKind("SessionList"))
	for _, s := range sessions {
		l.Items = append(l.Items, SessionItem{
			ID: s.ID, Status: string(s.Status), Reason: s.Reason, Workspace: s.Workspace,
			CreatedAt: s.CreatedAt.UTC(), Backend: string(s.BackendType), Network: s.Network,
		})
	}
	return l
}

// DeepCopyObject implements runtime.Object.
func (l *SessionList) DeepCopyObject() runtime.Object {
	c := *l
	c.Items = slices.Clone(l.Items)
	return &c
}
