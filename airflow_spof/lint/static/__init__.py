"""Static analysis of DAG files: AST only, nothing imported or executed."""
