package wire_test

import (
	"bytes"
	"fmt"

	"github.com/mpgo/mpgo/wire"
)

func ExampleReader() {
	var stream bytes.Buffer
	wire.WriteFrame(&stream, []byte("#WELCOME#"))
	wire.WriteFrame(&stream, nil)
	fmt.Printf("% x\n", stream.Bytes()[:4])

	r := wire.NewReader(&stream)
	r.SetMaxFrameSize(256)
	for {
		p, err := r.ReadFrame() // p is valid until the next ReadFrame
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%q\n", p)
	}
	// Output:
	// 00 00 00 09
	// "#WELCOME#"
	// ""
	// EOF
}
