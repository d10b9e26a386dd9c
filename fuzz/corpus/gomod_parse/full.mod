// leading comment
module example.com/app

go 1.22.1
toolchain go1.22.3
godebug panicnil=1
godebug (
	asynctimerchan=0
)
require (
	example.com/a v1.2.3
	example.com/b/v2 v2.0.0 // indirect
	"example.com/quoted" v0.1
)
require gopkg.in/yaml.v3 v3.0.1
exclude example.com/a v1.2.2
replace example.com/a => ../a
replace example.com/b/v2 v2.0.0 => example.com/fork/v2 v2.0.1
replace (
	example.com/c => /abs/c
)
// broke the API
retract v1.0.0
retract [v1.1.0, v1.1.9] // too slow
tool example.com/tool
ignore ./node_modules
