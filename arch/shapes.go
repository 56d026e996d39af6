package arch

import "fmt"

// Shapes infers the per-sample output shape of every node (batch dimension left out),
// checking on the way that each node's declared In matches what reaches it.
func (a *Arch) Shapes() (map[string][]int, error) {
	shapes := map[string][]int{Input: {a.Input[0], a.Input[1], a.Input[2]}}
	for _, n := range a.Nodes {
		if _, dup := shapes[n.Name]; dup {
			return nil, fmt.Errorf("arch %s: node name %q used twice", a.Name, n.Name)
		}
		ins := make([][]int, len(n.Inputs))
		for i, name := range n.Inputs {
			s, ok := shapes[name]
			if !ok {
				return nil, fmt.Errorf("arch %s: node %s reads %q before it is defined", a.Name, n.Name, name)
			}
			ins[i] = s
		}
		out, err := n.OutShape(ins)
		if err != nil {
			return nil, fmt.Errorf("arch %s: node %s: %w", a.Name, n.Name, err)
		}
		shapes[n.Name] = out
	}
	return shapes, nil
}
