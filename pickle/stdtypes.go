package pickle

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
)

// Go types for classes of the Python standard library, registered by
// [StdRegistry]. Each one re-encodes to exactly the REDUCE (or NEWOBJ) form
// that CPython's own pickle writes for it, and decodes from the forms that
// CPython 2.7 and 3.6 to 3.13 write.

// Python classes of the standard types.
var (
	classDateTime  = Global{Module: "datetime", Name: "datetime"}
	classDate      = Global{Module: "datetime", Name: "date"}
	classTime      = Global{Module: "datetime", Name: "time"}
	classTimeDelta = Global{Module: "datetime", Name: "timedelta"}
	classTimeZone  = Global{Module: "datetime", Name: "timezone"}
	classDecimal   = Global{Module: "decimal", Name: "Decimal"}
	classUUID      = Global{Module: "uuid", Name: "UUID"}
)

// StdRegistry returns a new [Registry] holding the standard mappings of this
// package:
//
//	datetime.datetime   DateTime
//	datetime.date       Date
//	datetime.time       Time
//	datetime.timedelta  TimeDelta
//	datetime.timezone   TimeZone
//	decimal.Decimal     Decimal
//	fractions.Fraction  Fraction
//	uuid.UUID           UUID
//
// The returned registry is the caller's own: registering more classes in it
// affects no other registry.
func StdRegistry() *Registry {
	r := NewRegistry()
	r.MustRegister(classDateTime.Module, classDateTime.Name, DateTime{})
	r.MustRegister(classDate.Module, classDate.Name, Date{})
	r.MustRegister(classTime.Module, classTime.Name, Time{})
	r.MustRegister(classTimeDelta.Module, classTimeDelta.Name, TimeDelta{})
	r.MustRegister(classTimeZone.Module, classTimeZone.Name, TimeZone{})
	r.MustRegister(classDecimal.Module, classDecimal.Name, Decimal(""))
	r.MustRegister(classFraction.Module, classFraction.Name, Fraction(""))
	r.MustRegister(classUUID.Module, classUUID.Name, UUID{})
	return r
}

// reduceArgs checks that v is an *Object of class want (or, when alt is
// given, of one of the alternative classes) and returns its arguments.
func reduceArgs(v any, want Global) (Tuple, error) {
	o, ok := v.(*Object)
	if !ok {
		return nil, fmt.Errorf("pickle: cannot decode %s into %s", TypeName(v), want)
	}
	if o.Class != want {
		return nil, fmt.Errorf("pickle: cannot decode an object of class %s into %s", o.Class, want)
	}
	return o.Args, nil
}

// stateBytes returns the packed state argument of a datetime class: bytes
// (Python 3), a Python 2 str, or a latin-1 str.
func stateBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case Py2String:
		return []byte(x), true
	case ByteArray:
		return []byte(x), true
	case string:
		b := make([]byte, 0, len(x))
		for _, r := range x {
			if r > 0xff {
				return nil, false
			}
			b = append(b, byte(r))
		}
		return b, true
	}
	return nil, false
}

// intArg converts an int argument.
func intArg(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case Py2Int:
		return int64(x), true
	case Py2Long:
		return int64(x), true
	case int:
		return int64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case *big.Int:
		if x != nil && x.IsInt64() {
			return x.Int64(), true
		}
	}
	return 0, false
}

// intArgs converts the int arguments of a constructor call; missing trailing
// arguments are zero.
func intArgs(args Tuple, dst ...*int) error {
	if len(args) > len(dst) {
		return fmt.Errorf("pickle: %d arguments, want at most %d", len(args), len(dst))
	}
	for i, a := range args {
		n, ok := intArg(a)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return fmt.Errorf("pickle: argument %d is %s, want a small int", i, TypeName(a))
		}
		*dst[i] = int(n)
	}
	return nil
}

// tzArg converts the tzinfo argument of a datetime or time.
func tzArg(v any) any {
	if o, ok := v.(*Object); ok && o.Class == classTimeZone {
		var tz TimeZone
		if err := tz.UnmarshalPickle(o); err == nil {
			return tz
		}
	}
	return v
}

// tzValue returns the encodable form of a tzinfo.
func tzValue(tz any) (any, error) {
	if m, ok := tz.(Marshaler); ok {
		return m.MarshalPickle()
	}
	return tz, nil
}

// DateTime is a Python datetime.datetime. TZInfo is nil for a naive
// datetime, a [TimeZone] for a datetime.timezone, and any other value-model
// value (such as the *Object of a zoneinfo.ZoneInfo or a pytz zone) for
// other tzinfo classes. Fold is 0 or 1 (PEP 495).
//
// It encodes as CPython does: REDUCE of datetime.datetime with the 10-byte
// packed state (and the tzinfo). The fold bit is always written into the
// state, which is what CPython writes at protocol 4 and above.
type DateTime struct {
	Year, Month, Day                        int
	Hour, Minute, Second, Microsecond, Fold int
	TZInfo                                  any
}

// MarshalPickle implements [Marshaler].
func (d DateTime) MarshalPickle() (any, error) {
	if d.Year < 0 || d.Year > 0xffff || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 ||
		d.Hour < 0 || d.Hour > 23 || d.Minute < 0 || d.Minute > 59 || d.Second < 0 || d.Second > 59 ||
		d.Microsecond < 0 || d.Microsecond > 999999 || d.Fold < 0 || d.Fold > 1 {
		return nil, fmt.Errorf("pickle: DateTime out of range: %+v", d)
	}
	m := byte(d.Month)
	if d.Fold == 1 {
		m |= 0x80
	}
	state := []byte{byte(d.Year >> 8), byte(d.Year), m, byte(d.Day), byte(d.Hour), byte(d.Minute), byte(d.Second),
		byte(d.Microsecond >> 16), byte(d.Microsecond >> 8), byte(d.Microsecond)}
	if d.TZInfo == nil {
		return &Object{Class: classDateTime, Args: Tuple{state}}, nil
	}
	tz, err := tzValue(d.TZInfo)
	if err != nil {
		return nil, err
	}
	return &Object{Class: classDateTime, Args: Tuple{state, tz}}, nil
}

// UnmarshalPickle implements [Unmarshaler]: it accepts the *Object of a
// datetime.datetime, with the packed state (every CPython version) or with
// int arguments (year, month, day, ...).
func (d *DateTime) UnmarshalPickle(v any) error {
	if x, ok := v.(DateTime); ok {
		*d = x
		return nil
	}
	args, err := reduceArgs(v, classDateTime)
	if err != nil {
		return err
	}
	var n DateTime
	if len(args) >= 1 {
		if b, ok := stateBytes(args[0]); ok && len(b) == 10 {
			n = DateTime{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2] & 0x7f), Day: int(b[3]),
				Hour: int(b[4]), Minute: int(b[5]), Second: int(b[6]),
				Microsecond: int(b[7])<<16 | int(b[8])<<8 | int(b[9])}
			if b[2]&0x80 != 0 {
				n.Fold = 1
			}
			if len(args) == 2 {
				n.TZInfo = tzArg(args[1])
			} else if len(args) > 2 {
				return errors.New("pickle: datetime state with more than 2 arguments")
			}
			*d = n
			return nil
		}
	}
	var tz any
	if len(args) == 8 {
		tz = tzArg(args[7])
		args = args[:7]
	}
	if err := intArgs(args, &n.Year, &n.Month, &n.Day, &n.Hour, &n.Minute, &n.Second, &n.Microsecond); err != nil {
		return fmt.Errorf("pickle: datetime.datetime: %w", err)
	}
	if len(args) < 3 {
		return errors.New("pickle: datetime.datetime needs year, month and day")
	}
	n.TZInfo = tz
	*d = n
	return nil
}

// DateTimeOf returns the aware DateTime of t, with a [TimeZone] of t's
// offset from UTC (the zone's name is not kept; time.UTC gives Python's
// timezone.utc). Nanoseconds are truncated to microseconds.
func DateTimeOf(t time.Time) DateTime {
	_, off := t.Zone()
	return DateTime{Year: t.Year(), Month: int(t.Month()), Day: t.Day(), Hour: t.Hour(), Minute: t.Minute(),
		Second: t.Second(), Microsecond: t.Nanosecond() / 1000,
		TZInfo: TimeZone{Offset: TimeDeltaOf(time.Duration(off) * time.Second)}}
}

// Time returns d as a time.Time. A naive datetime is taken as UTC. The zone
// is a fixed zone for a [TimeZone], or the named location for a
// zoneinfo.ZoneInfo or pytz zone object (loaded with time.LoadLocation); any
// other tzinfo is an error.
func (d DateTime) Time() (time.Time, error) {
	loc, err := location(d.TZInfo)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, d.Second, d.Microsecond*1000, loc), nil
}

// location converts a tzinfo to a *time.Location.
func location(tz any) (*time.Location, error) {
	switch x := tz.(type) {
	case nil:
		return time.UTC, nil
	case TimeZone:
		return x.Location(), nil
	case *Object:
		if x.Class == classTimeZone {
			var z TimeZone
			if err := z.UnmarshalPickle(x); err != nil {
				return nil, err
			}
			return z.Location(), nil
		}
		// zoneinfo.ZoneInfo._unpickle(key, from_cache) and pytz._p(zone, ...).
		if (x.Class == Global{Module: "zoneinfo", Name: "ZoneInfo._unpickle"} ||
			x.Class == Global{Module: "pytz", Name: "_p"}) && len(x.Args) >= 1 {
			if key, ok := strOf(x.Args[0]); ok {
				return time.LoadLocation(key)
			}
		}
	}
	return nil, fmt.Errorf("pickle: unsupported tzinfo %s", Repr(tz))
}

// Date is a Python datetime.date. It encodes as REDUCE of datetime.date
// with the 4-byte packed state, as CPython does.
type Date struct {
	Year, Month, Day int
}

// MarshalPickle implements [Marshaler].
func (d Date) MarshalPickle() (any, error) {
	if d.Year < 0 || d.Year > 0xffff || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return nil, fmt.Errorf("pickle: Date out of range: %+v", d)
	}
	return &Object{Class: classDate, Args: Tuple{[]byte{byte(d.Year >> 8), byte(d.Year), byte(d.Month), byte(d.Day)}}}, nil
}

// UnmarshalPickle implements [Unmarshaler].
func (d *Date) UnmarshalPickle(v any) error {
	if x, ok := v.(Date); ok {
		*d = x
		return nil
	}
	args, err := reduceArgs(v, classDate)
	if err != nil {
		return err
	}
	if len(args) == 1 {
		if b, ok := stateBytes(args[0]); ok && len(b) == 4 {
			*d = Date{Year: int(b[0])<<8 | int(b[1]), Month: int(b[2]), Day: int(b[3])}
			return nil
		}
	}
	var n Date
	if len(args) != 3 {
		return errors.New("pickle: datetime.date needs year, month and day")
	}
	if err := intArgs(args, &n.Year, &n.Month, &n.Day); err != nil {
		return fmt.Errorf("pickle: datetime.date: %w", err)
	}
	*d = n
	return nil
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time {
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
}

// Time is a Python datetime.time (a time of day). TZInfo is as in
// [DateTime]. It encodes as REDUCE of datetime.time with the 6-byte packed
// state, as CPython does; the fold bit is always written into the state.
type Time struct {
	Hour, Minute, Second, Microsecond, Fold int
	TZInfo                                  any
}

// MarshalPickle implements [Marshaler].
func (t Time) MarshalPickle() (any, error) {
	if t.Hour < 0 || t.Hour > 23 || t.Minute < 0 || t.Minute > 59 || t.Second < 0 || t.Second > 59 ||
		t.Microsecond < 0 || t.Microsecond > 999999 || t.Fold < 0 || t.Fold > 1 {
		return nil, fmt.Errorf("pickle: Time out of range: %+v", t)
	}
	h := byte(t.Hour)
	if t.Fold == 1 {
		h |= 0x80
	}
	state := []byte{h, byte(t.Minute), byte(t.Second), byte(t.Microsecond >> 16), byte(t.Microsecond >> 8), byte(t.Microsecond)}
	if t.TZInfo == nil {
		return &Object{Class: classTime, Args: Tuple{state}}, nil
	}
	tz, err := tzValue(t.TZInfo)
	if err != nil {
		return nil, err
	}
	return &Object{Class: classTime, Args: Tuple{state, tz}}, nil
}

// UnmarshalPickle implements [Unmarshaler].
func (t *Time) UnmarshalPickle(v any) error {
	if x, ok := v.(Time); ok {
		*t = x
		return nil
	}
	args, err := reduceArgs(v, classTime)
	if err != nil {
		return err
	}
	if len(args) >= 1 && len(args) <= 2 {
		if b, ok := stateBytes(args[0]); ok && len(b) == 6 {
			n := Time{Hour: int(b[0] & 0x7f), Minute: int(b[1]), Second: int(b[2]),
				Microsecond: int(b[3])<<16 | int(b[4])<<8 | int(b[5])}
			if b[0]&0x80 != 0 {
				n.Fold = 1
			}
			if len(args) == 2 {
				n.TZInfo = tzArg(args[1])
			}
			*t = n
			return nil
		}
	}
	var n Time
	if len(args) == 5 {
		n.TZInfo = tzArg(args[4])
		args = args[:4]
	}
	if err := intArgs(args, &n.Hour, &n.Minute, &n.Second, &n.Microsecond); err != nil {
		return fmt.Errorf("pickle: datetime.time: %w", err)
	}
	*t = n
	return nil
}

// TimeDelta is a Python datetime.timedelta, normalised as Python keeps it:
// 0 <= Seconds < 86400 and 0 <= Microseconds < 1000000, the sign in Days.
// It encodes as REDUCE of datetime.timedelta with (days, seconds,
// microseconds), as CPython does.
type TimeDelta struct {
	Days, Seconds, Microseconds int64
}

// TimeDeltaOf returns the normalised TimeDelta of d, rounded to the nearest
// microsecond (half to even, as Python rounds).
func TimeDeltaOf(d time.Duration) TimeDelta {
	us := int64(d / time.Microsecond)
	rem := int64(d % time.Microsecond)
	if rem < 0 {
		rem += 1000
		us--
	}
	if rem > 500 || (rem == 500 && us%2 != 0) {
		us++
	}
	return normTimeDelta(0, 0, us)
}

// normTimeDelta normalises days, seconds and microseconds as Python does.
func normTimeDelta(days, secs, us int64) TimeDelta {
	secs += floorDiv(us, 1000000)
	us = floorMod(us, 1000000)
	days += floorDiv(secs, 86400)
	secs = floorMod(secs, 86400)
	return TimeDelta{Days: days, Seconds: secs, Microseconds: us}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// Duration returns the timedelta as a time.Duration; the error reports a
// timedelta beyond time.Duration's range (about 292 years).
func (t TimeDelta) Duration() (time.Duration, error) {
	us := new(big.Int).SetInt64(t.Days)
	us.Mul(us, big.NewInt(86400))
	us.Add(us, big.NewInt(t.Seconds))
	us.Mul(us, big.NewInt(1000000))
	us.Add(us, big.NewInt(t.Microseconds))
	us.Mul(us, big.NewInt(1000))
	if !us.IsInt64() {
		return 0, fmt.Errorf("pickle: timedelta %+v out of time.Duration range", t)
	}
	return time.Duration(us.Int64()), nil
}

// MarshalPickle implements [Marshaler].
func (t TimeDelta) MarshalPickle() (any, error) {
	n := normTimeDelta(t.Days, t.Seconds, t.Microseconds)
	if n.Days < -999999999 || n.Days > 999999999 {
		return nil, fmt.Errorf("pickle: timedelta of %d days out of Python's range", n.Days)
	}
	return &Object{Class: classTimeDelta, Args: Tuple{n.Days, n.Seconds, n.Microseconds}}, nil
}

// UnmarshalPickle implements [Unmarshaler].
func (t *TimeDelta) UnmarshalPickle(v any) error {
	if x, ok := v.(TimeDelta); ok {
		*t = x
		return nil
	}
	args, err := reduceArgs(v, classTimeDelta)
	if err != nil {
		return err
	}
	if len(args) > 3 {
		return fmt.Errorf("pickle: datetime.timedelta with %d arguments", len(args))
	}
	var parts [3]int64
	for i, a := range args {
		n, ok := intArg(a)
		if !ok {
			return fmt.Errorf("pickle: datetime.timedelta argument %d is %s, want int", i, TypeName(a))
		}
		parts[i] = n
	}
	*t = normTimeDelta(parts[0], parts[1], parts[2])
	return nil
}

// TimeZone is a Python datetime.timezone: a fixed offset from UTC with an
// optional name (Name "" means none was given). The zero value is
// timezone.utc. It encodes as REDUCE of datetime.timezone with (offset,) or
// (offset, name), as CPython does. (Python 2 has no datetime.timezone.)
type TimeZone struct {
	Offset TimeDelta
	Name   string
}

// MarshalPickle implements [Marshaler].
func (z TimeZone) MarshalPickle() (any, error) {
	off, err := z.Offset.MarshalPickle()
	if err != nil {
		return nil, err
	}
	if z.Name == "" {
		return &Object{Class: classTimeZone, Args: Tuple{off}}, nil
	}
	return &Object{Class: classTimeZone, Args: Tuple{off, z.Name}}, nil
}

// UnmarshalPickle implements [Unmarshaler].
func (z *TimeZone) UnmarshalPickle(v any) error {
	if x, ok := v.(TimeZone); ok {
		*z = x
		return nil
	}
	args, err := reduceArgs(v, classTimeZone)
	if err != nil {
		return err
	}
	if len(args) < 1 || len(args) > 2 {
		return fmt.Errorf("pickle: datetime.timezone with %d arguments", len(args))
	}
	var n TimeZone
	if err := n.Offset.UnmarshalPickle(args[0]); err != nil {
		return err
	}
	if len(args) == 2 {
		s, ok := strOf(args[1])
		if !ok {
			return fmt.Errorf("pickle: datetime.timezone name is %s", TypeName(args[1]))
		}
		n.Name = s
	}
	*z = n
	return nil
}

// Location returns the zone as a fixed time.Location (time.UTC for a zero
// offset without a name).
func (z TimeZone) Location() *time.Location {
	d, err := z.Offset.Duration()
	if err != nil {
		d = 0
	}
	if d == 0 && z.Name == "" {
		return time.UTC
	}
	return time.FixedZone(z.Name, int(d/time.Second))
}

// Decimal is a Python decimal.Decimal in its string form, such as "1.5",
// "-0", "Infinity" or "NaN". It encodes as REDUCE of decimal.Decimal with
// the string, as CPython does.
type Decimal string

// MarshalPickle implements [Marshaler].
func (d Decimal) MarshalPickle() (any, error) {
	return &Object{Class: classDecimal, Args: Tuple{string(d)}}, nil
}

// UnmarshalPickle implements [Unmarshaler].
func (d *Decimal) UnmarshalPickle(v any) error {
	if x, ok := v.(Decimal); ok {
		*d = x
		return nil
	}
	args, err := reduceArgs(v, classDecimal)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return fmt.Errorf("pickle: decimal.Decimal with %d arguments", len(args))
	}
	switch a := args[0].(type) {
	case int64:
		*d = Decimal(fmt.Sprint(a))
	case *big.Int:
		*d = Decimal(a.String())
	default:
		s, ok := strOf(a)
		if !ok {
			return fmt.Errorf("pickle: decimal.Decimal argument is %s", TypeName(a))
		}
		*d = Decimal(s)
	}
	return nil
}

// String returns the decimal's string form.
func (d Decimal) String() string { return string(d) }

// Rat returns the value of a finite decimal as a *big.Rat; ok is false for
// Infinity, NaN and malformed strings.
func (d Decimal) Rat() (r *big.Rat, ok bool) { return new(big.Rat).SetString(string(d)) }

// UUID is a Python uuid.UUID, the 16 bytes in big-endian order. It encodes
// as CPython 3 does: NEWOBJ of uuid.UUID with state {'int': n}.
type UUID [16]byte

// MarshalPickle implements [Marshaler].
func (u UUID) MarshalPickle() (any, error) {
	n := new(big.Int).SetBytes(u[:])
	var iv any = n
	if n.IsInt64() {
		iv = n.Int64()
	}
	state := NewDict()
	if err := state.Set("int", iv); err != nil {
		return nil, err
	}
	return &Object{Class: classUUID, Kind: BuildNewObj, Args: Tuple{}, State: state}, nil
}

// UnmarshalPickle implements [Unmarshaler]: it accepts the state {'int': n}
// of Python 3 and the __dict__ of Python 2.
func (u *UUID) UnmarshalPickle(v any) error {
	if x, ok := v.(UUID); ok {
		*u = x
		return nil
	}
	o, ok := v.(*Object)
	if !ok || o.Class != classUUID {
		return fmt.Errorf("pickle: cannot decode %s into uuid.UUID", TypeName(v))
	}
	st, _ := o.State.(*Dict)
	if t, ok := o.State.(Tuple); ok && len(t) == 2 {
		st, _ = t[0].(*Dict)
	}
	if st == nil {
		return errors.New("pickle: uuid.UUID without a state dict")
	}
	iv, ok := st.Get("int")
	if !ok {
		return errors.New("pickle: uuid.UUID state without 'int'")
	}
	var n *big.Int
	switch x := iv.(type) {
	case int64:
		n = big.NewInt(x)
	case *big.Int:
		n = x
	default:
		return fmt.Errorf("pickle: uuid.UUID int is %s", TypeName(iv))
	}
	if n.Sign() < 0 || n.BitLen() > 128 {
		return errors.New("pickle: uuid.UUID int out of range")
	}
	var b UUID
	n.FillBytes(b[:])
	*u = b
	return nil
}

// String returns the canonical form, e.g. "12345678-1234-5678-1234-567812345678".
func (u UUID) String() string {
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return string(buf[:])
}

// tzRepr is the repr of a tzinfo argument.
func tzRepr(tz any) string {
	if z, ok := tz.(TimeZone); ok {
		return z.PyRepr()
	}
	return Repr(tz)
}

// PyRepr returns Python's repr of the datetime, e.g.
// "datetime.datetime(2020, 1, 2, 3, 4, 5, 6)".
func (d DateTime) PyRepr() string {
	s := fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d", d.Year, d.Month, d.Day, d.Hour, d.Minute)
	if d.Second != 0 || d.Microsecond != 0 {
		s += fmt.Sprintf(", %d", d.Second)
	}
	if d.Microsecond != 0 {
		s += fmt.Sprintf(", %d", d.Microsecond)
	}
	if d.TZInfo != nil {
		s += ", tzinfo=" + tzRepr(d.TZInfo)
	}
	if d.Fold != 0 {
		s += ", fold=1"
	}
	return s + ")"
}

// PyRepr returns Python's repr of the date, e.g. "datetime.date(2020, 1, 2)".
func (d Date) PyRepr() string {
	return fmt.Sprintf("datetime.date(%d, %d, %d)", d.Year, d.Month, d.Day)
}

// PyRepr returns Python's repr of the time, e.g. "datetime.time(1, 2, 3)".
func (t Time) PyRepr() string {
	s := fmt.Sprintf("datetime.time(%d, %d", t.Hour, t.Minute)
	if t.Second != 0 || t.Microsecond != 0 {
		s += fmt.Sprintf(", %d", t.Second)
	}
	if t.Microsecond != 0 {
		s += fmt.Sprintf(", %d", t.Microsecond)
	}
	if t.TZInfo != nil {
		s += ", tzinfo=" + tzRepr(t.TZInfo)
	}
	if t.Fold != 0 {
		s += ", fold=1"
	}
	return s + ")"
}

// PyRepr returns Python 3.7+'s repr of the timedelta, e.g.
// "datetime.timedelta(days=-1, seconds=2)".
func (t TimeDelta) PyRepr() string {
	n := normTimeDelta(t.Days, t.Seconds, t.Microseconds)
	var parts []string
	if n.Days != 0 {
		parts = append(parts, fmt.Sprintf("days=%d", n.Days))
	}
	if n.Seconds != 0 {
		parts = append(parts, fmt.Sprintf("seconds=%d", n.Seconds))
	}
	if n.Microseconds != 0 {
		parts = append(parts, fmt.Sprintf("microseconds=%d", n.Microseconds))
	}
	if len(parts) == 0 {
		return "datetime.timedelta(0)"
	}
	return "datetime.timedelta(" + strings.Join(parts, ", ") + ")"
}

// PyRepr returns Python's repr of the timezone, e.g. "datetime.timezone.utc"
// or "datetime.timezone(datetime.timedelta(seconds=7200), 'X')".
func (z TimeZone) PyRepr() string {
	n := normTimeDelta(z.Offset.Days, z.Offset.Seconds, z.Offset.Microseconds)
	if n == (TimeDelta{}) && z.Name == "" {
		return "datetime.timezone.utc"
	}
	if z.Name == "" {
		return "datetime.timezone(" + n.PyRepr() + ")"
	}
	return "datetime.timezone(" + n.PyRepr() + ", " + Repr(z.Name) + ")"
}

// PyRepr returns Python's repr of the decimal, e.g. "Decimal('1.50')".
func (d Decimal) PyRepr() string { return "Decimal(" + Repr(string(d)) + ")" }

// PyRepr returns Python's repr of the UUID, e.g.
// "UUID('12345678-1234-5678-1234-567812345678')".
func (u UUID) PyRepr() string { return "UUID('" + u.String() + "')" }

// Fraction is a Python fractions.Fraction in its str form, such as "-1/3"
// or "5". It encodes as CPython 3.11 and later do, REDUCE of
// fractions.Fraction with (numerator, denominator), which every CPython
// (2.7 included) reads; it decodes from that form and from the (str,) form
// of older versions.
type Fraction string

var classFraction = Global{Module: "fractions", Name: "Fraction"}

// FractionOf returns the Fraction of r.
func FractionOf(r *big.Rat) Fraction { return Fraction(r.RatString()) }

// Rat returns the value as a *big.Rat; ok is false for a malformed string or
// a zero denominator.
func (f Fraction) Rat() (r *big.Rat, ok bool) {
	s := string(f)
	if i := strings.IndexByte(s, '/'); i >= 0 && strings.TrimLeft(s[i+1:], "+0") == "" {
		return nil, false
	}
	return new(big.Rat).SetString(s)
}

// bigArg returns an int64 when n fits, else n.
func bigArg(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return new(big.Int).Set(n)
}

// MarshalPickle implements [Marshaler].
func (f Fraction) MarshalPickle() (any, error) {
	r, ok := f.Rat()
	if !ok {
		return nil, fmt.Errorf("pickle: invalid Fraction %q", string(f))
	}
	return &Object{Class: classFraction, Args: Tuple{bigArg(r.Num()), bigArg(r.Denom())}}, nil
}

// UnmarshalPickle implements [Unmarshaler].
func (f *Fraction) UnmarshalPickle(v any) error {
	if x, ok := v.(Fraction); ok {
		*f = x
		return nil
	}
	args, err := reduceArgs(v, classFraction)
	if err != nil {
		return err
	}
	toBig := func(a any) (*big.Int, bool) {
		switch x := a.(type) {
		case int64:
			return big.NewInt(x), true
		case *big.Int:
			return x, true
		case bool:
			if x {
				return big.NewInt(1), true
			}
			return big.NewInt(0), true
		}
		return nil, false
	}
	var r *big.Rat
	switch len(args) {
	case 1:
		if n, ok := toBig(args[0]); ok {
			r = new(big.Rat).SetInt(n)
		} else if s, ok := strOf(args[0]); ok {
			r, ok = Fraction(strings.TrimSpace(s)).Rat()
			if !ok {
				return fmt.Errorf("pickle: invalid fractions.Fraction %s", Repr(s))
			}
		}
	case 2:
		n, ok1 := toBig(args[0])
		d, ok2 := toBig(args[1])
		if ok1 && ok2 && d.Sign() != 0 {
			r = new(big.Rat).SetFrac(n, d)
		}
	}
	if r == nil {
		return fmt.Errorf("pickle: cannot decode fractions.Fraction%s", Repr(args))
	}
	*f = FractionOf(r)
	return nil
}

// PyRepr returns Python's repr of the fraction, e.g. "Fraction(-1, 3)".
func (f Fraction) PyRepr() string {
	r, ok := f.Rat()
	if !ok {
		return "Fraction(" + Repr(string(f)) + ")"
	}
	return "Fraction(" + r.Num().String() + ", " + r.Denom().String() + ")"
}
