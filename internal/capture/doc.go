// Package capture holds test helpers shared by several packages that compare bytes with
// captures of what CPython sends (hex dumps, as in /shared/spec/captures).
package capture
