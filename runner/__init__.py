"""nngrade's engine: specs, datasets, sandboxes, execution, reports and the CLI.

Grading logic for particular assignments lives in the sibling ``graders``
package; the engine reaches it only through the check registry.
"""

__version__ = "0.1.0"
