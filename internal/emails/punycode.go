package emails

import (
	"strings"
	"unicode/utf8"
)

// SES takes 7-bit addresses only: an internationalised domain goes as its
// ASCII form (IDNA: each label with letters beyond ASCII as "xn--" and its
// Punycode, RFC 3492). Addresses are lower-cased and checked
// (users.CheckEmail) before they get here; no mapping beyond that is done
// (UTS 46's, for instance ß), which the names admins type do not need.

// asciiDomain is d with each non-ASCII label in Punycode, or "" when a
// label cannot be encoded.
func asciiDomain(d string) string {
	labels := strings.Split(d, ".")
	for i, l := range labels {
		if isASCII(l) {
			continue
		}
		p, ok := punycode(l)
		if !ok || len(p)+4 > 63 {
			return ""
		}
		labels[i] = "xn--" + p
	}
	return strings.Join(labels, ".")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// punycode encodes a label (RFC 3492, section 6.3).
func punycode(label string) (string, bool) {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	input := []rune(label)
	var out strings.Builder
	for _, r := range input {
		if r < 0x80 {
			out.WriteRune(r)
		}
	}
	b := out.Len()
	h := b
	if b > 0 {
		out.WriteByte('-')
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(input) {
		m := 0x7fffffff
		for _, r := range input {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m - n) > (0x7fffffff-delta)/(h+1) {
			return "", false
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range input {
			if int(r) < n {
				delta++
			}
			if int(r) == n {
				q := delta
				for k := base; ; k += base {
					t := k - bias
					if t < tmin {
						t = tmin
					} else if t > tmax {
						t = tmax
					}
					if q < t {
						break
					}
					out.WriteByte(digit(t + (q-t)%(base-t)))
					q = (q - t) / (base - t)
				}
				out.WriteByte(digit(q))
				bias = adapt(delta, h+1, h == b)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return out.String(), true
}
