package config

import (
	"github.com/tailscale/hujson"
	"k8s.io/apimachinery/pkg/api/resource"
)

// setQuantity returns a handler parsing a Kubernetes quantity ("500m",
// "4Gi") into dst; a value that is no quantity is reported where it
// stands. Validate checks that it is positive.
func (d *decoder) setQuantity(dst *resource.Quantity) handler {
	return func(key string, v *hujson.Value) {
		s, ok := d.str(key, v)
		if !ok {
			return
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			d.fail(v.StartOffset, "%s: %q is not a quantity: write e.g. \"500m\" or \"2\" for CPU, \"512Mi\" or \"8Gi\" for memory and storage", d.name(key), s)
			return
		}
		*dst = q
		d.mark(key, d.name(key), v)
	}
}
